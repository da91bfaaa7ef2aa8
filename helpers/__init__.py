"""Derm-Assist workshop pack: the small package the notebooks import.

One module, one job:

- ``config``    paths, model ids and defaults shared by everything else
- ``errors``    the one-line errors a learner sees, and how AWS errors map to them
- ``images``    loading, cleaning and encoding images before they leave the machine
- ``aws``       boto3 clients, and whether we are talking to the local mock
- ``state``     the small state file that remembers the learner's endpoint
- ``files``     atomic writes (a crash never leaves half a file)
- ``endpoint``  deploy / describe / delete / list the pack's SageMaker endpoints
- ``classify``  call an endpoint and get typed predictions back
- ``plots``     the charts the notebooks draw
- ``triage``    Derm-Assist's Benign / Potentially Concerning / Uncertain rule and its review log
- ``mvp``       the MVP as an ipywidgets app (and the same path without a front end)
- ``capture``   Data Capture on the learner's endpoint (answers only by default), its bucket, reading it back
- ``monitoring`` outcome mix and confidence of captured answers over time, baseline and drift flag
- ``workflow``  the triage workflow: three Lambda-style handlers and its Step Functions state machine
- ``modelcards`` the workshop's model cards, side by side
- ``worksheets`` MoSCoW, risk register, DPIA, EU AI Act, curveball notes, reflection; the portfolio
- ``curveball`` the five curveball cards and their exercises (cost, fairness, occlusion, privacy)
- ``accessibility`` palettes, WCAG contrast, alt text and screen-reader text
- ``preflight``, ``notebook``, ``progress``  notebook 00's checks; notebook conveniences; progress bars
- ``imagenet_local``, ``recordings``, ``proxies``  the local ImageNet CNN, its recordings, the skin proxies
- ``mock``      the local stand-in for SageMaker (CI and offline rehearsal)
- ``cli``, ``runner``  the ``derm-assist`` console script; notebook execution and the HTML report
"""

__version__ = "0.1.0"

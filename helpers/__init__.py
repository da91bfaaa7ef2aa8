"""Derm-Assist workshop pack: the small package the notebooks import.

One module, one job. The folders say who a module is for.

The notebook API (what notebooks and the ``derm-assist`` command import):

- ``models``     the model registry: id, revision, task, labels, triage mapping, stand-in, card, serverless
                 memory and input geometry of every model the pack knows (the one place for model facts)
- ``images``     loading, cleaning and encoding images before they leave the machine
- ``endpoint``   deploy / describe / delete / list the pack's SageMaker endpoints; swap the model behind one
- ``classify``   call an endpoint and get typed predictions back, with retries
- ``triage``     Derm-Assist's Benign / Potentially Concerning / Uncertain rule, its disclaimer and review log
- ``assessment`` assess one image (classify + triage + log): the one path behind the app, the CLI and CI
- ``mvp``        the MVP as an ipywidgets app, and the same path without a front end
- ``capture``    Data Capture on the learner's endpoint (answers only by default), its bucket, reading it back
- ``monitoring`` outcome mix and confidence of captured answers over time, against a baseline, with a drift flag
- ``workflow/``  the triage workflow: three Lambda-style handlers (``serialize_image``, ``classify_image``,
                 ``confidence_filter``) and ``state_machine`` (its Step Functions definition, created and run here)
- ``webapp``     the MVP as a Gradio web page (``derm-assist app``; ``space/`` for a Hugging Face Space)
- ``cleanup``    the endpoint report (status, owner, age, cost) and cleanup, for the CLI and notebook 99
- ``evaluation`` the same evaluation for every model: a labelled set, accuracy next to the majority baseline,
                 balanced accuracy, per-class recall (melanoma first), confusion matrix, Fitzpatrick groups
- ``batch``      Batch Transform for a labelled set: upload to the pack's bucket, a tagged job, the answers
                 read back into the same evaluation, the cost next to real-time, cleanup of its objects
- ``ham10000``   the data behind the skin models: HAM10000's classes, published counts, licence, what it lacks
- ``prices``     the dated SageMaker price table (list prices, never live) that costs and the budget card read
- ``costs``      rough cost of what is running, from that table
- ``state``      the small state file that remembers the learner's endpoint
- ``plots``      the charts the notebooks draw, each with alt text
- ``accessibility`` palettes, WCAG contrast, alt text and screen-reader text
- ``modelcards`` the models' cards (``model_cards/``), side by side
- ``preflight``, ``notebook``  notebook 00's checks; what every notebook does first, figures and tables
- ``worksheets/`` MoSCoW, risk register, DPIA, EU AI Act, curveball notes, reflection; the portfolio
- ``curveball/`` the five curveball cards and their exercises (cost, fairness, occlusion, privacy)

Internals every layer uses (``core/``): ``config`` (paths and defaults), ``errors`` (one-line errors and
how AWS errors map to them), ``aws`` (boto3 clients; mock or AWS), ``roles`` (the execution role, found
as the SageMaker SDK finds it), ``owner`` (whose endpoints: the Studio user profile, never an identity
the class shares), ``files`` (atomic writes), ``progress`` (progress bars), ``concurrency`` (a few
endpoint calls in flight at once, answers in input order), ``display`` (text, HTML and widgets shown once,
with a plain-text twin).

Coach tooling (``coach/``): ``cli`` (the ``derm-assist`` console script), ``runner`` (papermill execution
of every notebook and the HTML report).

Everything the local mock runs (``mock/``): ``server`` (moto + a toolkit-faithful InvokeEndpoint, quotas,
faults), ``toolkit`` (what the Hugging Face inference toolkit accepts), ``transform`` (Batch Transform jobs over moto's
S3), ``standins`` (who answers for
each model), ``recordings`` (+ ``recordings/``: a real ImageNet CNN's answers, replayed),
``imagenet_local`` (that CNN running locally, optional), ``capture`` (Data Capture files written to moto's S3
as SageMaker writes them).

Offline maintainer tools (``maintainer/``, never imported by notebooks): ``proxies`` (draws the synthetic
skin proxies), ``eval_set`` (draws the synthetic labelled set ``eval_set/``), ``labels`` (writes MobileNetV2's label file in ``data/``),
``space`` (writes the folder to upload as a Hugging Face Space), ``onnx_export`` (exports the offline stand-in,
EfficientNet-Lite0, from PyTorch to the ONNX file the mock runs, and checks both answer alike).
"""

__version__ = "0.1.0"

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
- ``mock``      the local stand-in for SageMaker (CI and offline rehearsal)
- ``cli``       the ``derm-assist`` console script
"""

__version__ = "0.1.0"

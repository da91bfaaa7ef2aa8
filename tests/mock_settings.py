"""How the tests drive the mock.

``TEST_TIME_SCALE``: the mock's clock in the tests runs 10x faster than AWS's (DERM_ASSIST_MOCK_TIME_SCALE), for the
session mock and for the notebook runs alike. A new endpoint stays Creating for 2 s on it (0.2 s of wall time) and
deploy waits poll as often.

``BAD_DAY``: the faults tests/test_notebooks.py executes the whole workshop under, as
``derm-assist run --faults throttle_rate=0.2,model_error_rate=0.05`` does: every notebook must still show exactly
the facts of a good day (the retries absorb the faults).
"""

TEST_TIME_SCALE = 0.1
BAD_DAY = {"throttle_rate": 0.2, "model_error_rate": 0.05}

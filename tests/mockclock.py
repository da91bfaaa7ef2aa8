"""The mock's clock in the tests: 10x faster than AWS's (DERM_ASSIST_MOCK_TIME_SCALE), for the session mock and for the
notebook runs alike. A new endpoint stays Creating for 2 s on it (0.2 s of wall time) and deploy waits poll as often."""

TEST_TIME_SCALE = 0.1

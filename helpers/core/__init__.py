"""helpers.core"""

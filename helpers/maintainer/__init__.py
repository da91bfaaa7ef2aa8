"""helpers.maintainer"""

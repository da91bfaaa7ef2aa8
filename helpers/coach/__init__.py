"""helpers.coach"""

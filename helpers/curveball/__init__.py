"""Curveballs: a changed constraint dealt to each group, and the tools for its exercise.

- ``cards``     the five cards as data, and :func:`deal`
- ``cost``      budget cut: a cost model of SageMaker inference options from a dated price table
- ``fairness``  data bias: confidence and referral rate by Fitzpatrick type
- ``explain``   regulatory scrutiny: occlusion sensitivity computed through the endpoint
- ``privacy``   GDPR marketing request: synthetic users, k-anonymity, generalisation, suppression

Accessibility (the fourth card) lives in :mod:`helpers.accessibility`, because every chart uses it.
"""

from .cards import Card, canonical_id, card_ids, deal, deal_groups, get_card, list_cards

__all__ = ["Card", "canonical_id", "card_ids", "deal", "deal_groups", "get_card", "list_cards"]

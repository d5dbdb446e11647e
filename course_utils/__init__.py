"""Helpers for the course "Network outputs & loss functions".

Importing this package has no side effects: no plotting style is changed, no
seed is set and no device is touched. Import the topic modules you need, e.g.
``from course_utils.losses import softmax``.
"""

__version__ = "0.1.0"

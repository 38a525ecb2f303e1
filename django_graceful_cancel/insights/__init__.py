"""The private classifier and the themes in the customers' words (issue 20, parts 3 and 4).

- ``classifiers``: the interface a classifier implements and the one ``INSIGHTS_CLASSIFIER`` names;
- ``text_model``: the shipped classifier (TF-IDF word and character n-grams, a linear model;
  scikit-learn from the ``[insights]`` extra, imported only when used);
- ``training``: training from the site's own cases where staff recorded a root cause, plus the
  seed set shipped in ``seed/``;
- ``suggestions``: the service that writes suggestions and the staff decisions on them (nothing
  changes a case until a staff member accepts);
- ``themes`` and ``redaction``: recurring themes in a date range, quoted with personal data
  redacted.

Everything runs in the site's own process or worker and sends nothing anywhere (docs/insights.md).
"""

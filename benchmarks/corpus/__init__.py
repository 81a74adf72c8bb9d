"""Training and evaluation corpora for the learned injection detector (see ``train_injection_model.py``)."""

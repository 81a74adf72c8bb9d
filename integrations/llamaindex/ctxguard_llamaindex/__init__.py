"""ctxguard for LlamaIndex (exports are filled in as the parts land)."""

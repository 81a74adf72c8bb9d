"""ctxguard for LangChain (exports are filled in as the parts land)."""

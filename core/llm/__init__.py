"""The AI screening stage: ports, prompts, parsing, budgets and the ledger (pure), and the
``openai`` adapter (``openai_chat``), which only the composition root picks."""

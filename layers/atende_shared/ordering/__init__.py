"""The ordering core: one conversation's cart, prices, tools, prompts and offline brain.

Both channels import it — the LiveKit voice agent (``voice_fargate``, a thin adapter whose
``function_tool``\\ s call :mod:`.tools`) and the WhatsApp conversation handler. Nothing here
imports livekit-agents (a test proves it), touches AWS, or computes a price from anything
but the menu and the tenant's settings.

* :mod:`.state` — :class:`~.state.OrderState`, one conversation's cart and progress;
* :mod:`.catalog` — :class:`~.catalog.MenuIndex`, matching, search, alternatives;
* :mod:`.pricing` — lines and totals in integer cents, the read-back sentence;
* :mod:`.tools` — the tools' semantics (add, remove, change, fulfilment, confirm, ...),
  raising :class:`~.tools.Refusal` with a sentence for what the customer can fix;
* :mod:`.understand` — the offline brain's understanding of one utterance;
* :mod:`.dialogue` — what the offline brain says after the tools ran, and a channel-neutral
  driver (:func:`~.dialogue.respond`) for text channels;
* :mod:`.prompts` — everything said, per language.
"""

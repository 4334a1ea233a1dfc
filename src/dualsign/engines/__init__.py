"""Speech and vision engines: thin adapters behind the typed ports of ``engines.base`` (TTS, VAD, ASR)
and ``engines.vision_base`` (faces), chosen by ``engines.registry``; the deterministic fakes are
engines like the others."""

"""The signer's side behind the signer link: the flow of a session (open, consent, answers), the camera
(identity, liveness, monitoring), the documents and their signing, the recording, and the text-mode
simulation."""

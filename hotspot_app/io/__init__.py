"""Layer 2, input and output: reading incident and boundary files (`ingest`), the workspace and
its two backends (`workspace`), users and sign-in (`auth`), who is acting (`identity`), safe file
outputs (`exports`) and the synthetic demo borough (`demo`). Uses the core only."""

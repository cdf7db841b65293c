"""The domain: each Community of Practice is an ActivityPub Group actor."""

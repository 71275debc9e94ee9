"""What several test modules share: the problem+json check, the binary-tensor request, client factories."""

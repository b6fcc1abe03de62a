"""The agent desktop: follows calls over AMI and pushes the caller's file to the agent whose
phone rings, over a websocket."""

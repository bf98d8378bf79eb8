"""Traffic simulator (first version): vehicles driving the network, seen by the camera sites."""

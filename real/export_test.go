package real

// Kill stops d as if its process had died: nothing more reaches the stores,
// so the locks it holds stay until their leases end.
func (d *Driver) Kill() { d.kill() }

package real

import "strings"

// Kill stops d as if its process had died: nothing more reaches the stores,
// so the locks it holds stay until their leases end.
func (d *Driver) Kill() { d.kill() }

// SkipFenceCheck makes the drivers created until restore is called publish
// without checking the fence: a mutant driver, which writes a stale holder's
// value over a newer one, for tests to show that they catch it.
func SkipFenceCheck() (restore func()) {
	check := "if fence >= accepted and fence <= counter then"
	src := strings.Replace(srcPublish, check, "if true then", 1)
	if src == srcPublish {
		panic("real: the publish script no longer checks " + check + "; SkipFenceCheck must follow it")
	}
	plain, shard := scriptPublish, scriptPublishSharded
	scriptPublish, scriptPublishSharded = newScript(src), newScript(sharded(src))
	return func() { scriptPublish, scriptPublishSharded = plain, shard }
}

package cluster

// SetAfterStage installs a hook run by the coordinator after each producer
// stage succeeded (tests kill nodes there).
func SetAfterStage(d *Dist, fn func(query string, stage int)) { d.afterStage = fn }

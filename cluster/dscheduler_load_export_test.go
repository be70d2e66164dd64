package cluster

// SetWorkerHook installs a hook run as each task a peer sent starts here
// (tests hold tasks running with it).
func SetWorkerHook(d *Dist, fn func(query string, stage, partition int)) { d.workerHook = fn }

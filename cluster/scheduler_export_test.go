package cluster

// SetSchedulerTaskHook installs a hook run as each task of a query this
// node runs alone starts and ends (tests order stages' tasks with it).
func SetSchedulerTaskHook(s *Scheduler, fn func(stage, partition int, start bool)) { s.taskHook = fn }

package cluster

// HeldStages lists the stages of query with output in the store.
func (s *ShuffleStore) HeldStages(query string) map[int]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := map[int]bool{}
	for k := range s.outputs {
		if k.Query == query {
			held[k.Stage] = true
		}
	}
	return held
}

package ops

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// SharedBuildKey names the build side the partitions of one broadcast hash
// join read whole: the same query, consumer stage and broadcast stage, in
// one accounting scope (the task allocator: the whole query under the
// single-node scheduler and for a coordinator's own tasks; one task on a
// peer, which then shares nothing). Memory is charged once to that scope.
type SharedBuildKey struct {
	Alloc *execution.QueryAllocator
	Query string
	Stage int // the join's stage
	Build int // the broadcast stage its build side reads
}

// sharedBuild is one hash table the partitions of a broadcast join probe
// together. The first partition to arrive builds it; the others wait on
// ready and then only read it. The last partition to close frees it.
type sharedBuild struct {
	key   SharedBuildKey
	refs  int           // partitions holding it (under sharedBuilds.mu)
	ready chan struct{} // closed once built (or given up)
	// unshared: the build went to disk (grace hash join); every partition
	// then builds its own as if nothing were shared.
	unshared bool
	// err: the build failed; so do the waiting partitions (their inputs are
	// the builder's: a lost input would fail them too, and a retry of the
	// task must not read a node the scheduler already gave up on).
	err error
	t   builtTable
}

// builtTable is what a hash join build produces and the probe only reads.
type builtTable struct {
	build        []arrow.Array
	buildRows    int
	table        *groupTable
	head, next   []int32
	buildHasNull bool
	keyTables    []*groupTable
	bcodes       [][]uint32
	naNull       []int32
	res          reservation
}

var sharedBuilds = struct {
	sync.Mutex
	m map[SharedBuildKey]*sharedBuild
}{m: map[SharedBuildKey]*sharedBuild{}}

// sharedBuildHook, when set (tests), runs whenever a partition builds a
// shared table itself.
var sharedBuildHook func(SharedBuildKey)

// ShareBuild makes the hash join s (from NewHashJoinNullEq) share its
// build side with the other partitions of the same key in this process. It
// is ignored for joins that emit unmatched build rows (right, full): each
// partition needs its own match flags, and the planner never broadcasts
// their build side anyway.
func ShareBuild(s execution.Stream, key SharedBuildKey) {
	j, ok := s.(*joinStream)
	if !ok || !j.hash || key.Alloc == nil || j.typ == RightJoin || j.typ == FullJoin {
		return
	}
	j.shareKey = &key
}

// buildShared is buildSide for a shared build: build it or wait for the
// partition that does, then probe it read-only.
func (j *joinStream) buildShared(ctx context.Context) error {
	sharedBuilds.Lock()
	e := sharedBuilds.m[*j.shareKey]
	builder := e == nil
	if builder {
		e = &sharedBuild{key: *j.shareKey, ready: make(chan struct{})}
		sharedBuilds.m[e.key] = e
	}
	e.refs++
	sharedBuilds.Unlock()
	j.shared = e
	if builder {
		if h := sharedBuildHook; h != nil {
			h(e.key)
		}
		ok := false
		defer func() {
			if !ok { // a panic
				e.fail(qerr.New(qerr.Internal, "the partition building a shared hash join table failed"))
			}
		}()
		err := j.buildSide(ctx)
		ok = true
		switch {
		case err != nil:
			e.fail(err)
		case j.spill != nil:
			e.unshared = true
		default:
			// The table moves to the entry (with its reservation).
			e.t = builtTable{build: j.build, buildRows: j.buildRows, table: j.table, head: j.head, next: j.next,
				buildHasNull: j.buildHasNull, keyTables: j.keyTables, bcodes: j.bcodes, naNull: j.naNull, res: j.res}
			j.build, j.res = nil, reservation{alloc: j.res.alloc}
			j.useShared(e)
		}
		if err == nil {
			close(e.ready)
		}
		if e.unshared || e.err != nil {
			j.shared = nil
			releaseShared(e)
		}
		return err
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		j.shared = nil
		releaseShared(e)
		return ctx.Err()
	}
	if e.unshared || e.err != nil {
		j.shared = nil
		releaseShared(e)
		if e.err != nil {
			return e.err
		}
		return j.buildSide(ctx)
	}
	j.useShared(e)
	return nil
}

// useShared points j at e's table. The probe writes only per-partition
// scratch: each partition gets its own view of the group tables.
func (j *joinStream) useShared(e *sharedBuild) {
	t := &e.t
	j.buildRows, j.head, j.next, j.buildHasNull, j.bcodes, j.naNull = t.buildRows, t.head, t.next, t.buildHasNull, t.bcodes, t.naNull
	j.build = t.build // read-only: Close leaves it to releaseShared
	if t.table != nil {
		j.table = t.table.reader()
	}
	j.keyTables = nil
	for _, kt := range t.keyTables {
		j.keyTables = append(j.keyTables, kt.reader())
	}
}

// fail records the builder's error for the partitions waiting on e and
// unregisters e, so that a partition arriving later (a retried task)
// builds afresh instead of seeing the old failure.
func (e *sharedBuild) fail(err error) {
	e.err = err
	sharedBuilds.Lock()
	if sharedBuilds.m[e.key] == e {
		delete(sharedBuilds.m, e.key)
	}
	sharedBuilds.Unlock()
	close(e.ready)
}

// releaseShared drops one partition's hold on e; the last frees the table.
func releaseShared(e *sharedBuild) {
	sharedBuilds.Lock()
	e.refs--
	last := e.refs == 0
	if last && sharedBuilds.m[e.key] == e {
		delete(sharedBuilds.m, e.key)
	}
	sharedBuilds.Unlock()
	if last {
		releaseAll(e.t.build)
		e.t.build = nil
		e.t.res.free()
		e.t = builtTable{}
	}
}

// reader returns a view of t for one prober: the table itself is shared
// and only read, the per-batch scratch find fills is its own.
func (t *groupTable) reader() *groupTable {
	c := *t
	c.hbuf, c.ibuf, c.kbuf, c.koffs = nil, nil, nil, nil
	return &c
}

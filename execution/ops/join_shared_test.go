package ops

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

// runPartitions runs parts partitions of one broadcast hash join at the
// same time (each its own probe rows, each reading the whole build side)
// and returns every partition's rows, sorted, and the query allocator's
// peak. share makes them share one build.
func runPartitions(t *testing.T, mem memory.Allocator, typ JoinType, keyType arrow.DataType, nullAware, share bool, parts int) ([]string, int64, int) {
	t.Helper()
	ls := schemaOf(keyType, i64)
	rs := schemaOf(keyType, str)
	val := func(i int) any {
		if keyType == str {
			return fmt.Sprintf("k%d", i)
		}
		return i
	}
	var buildRows [][]any
	for i := 0; i < 6000; i++ {
		buildRows = append(buildRows, []any{val(i % 3000), fmt.Sprintf("b%d", i)})
	}
	build := batch(mem, rs, buildRows[:2500]...)
	build2 := batch(mem, rs, buildRows[2500:]...)
	defer build.Release()
	defer build2.Release()
	out := ls
	switch typ {
	case InnerJoin, LeftJoin:
		out = schemaOf(keyType, i64, keyType, str)
	case MarkJoin:
		out = schemaOf(keyType, i64, arrow.FixedWidthTypes.Boolean)
	}
	qa := execution.NewQueryAllocator(mem, 0)
	key := SharedBuildKey{Alloc: qa, Query: t.Name(), Stage: 1, Build: 0}
	var mu sync.Mutex
	var rows []string
	builds := 0
	if share {
		sharedBuildHook = func(k SharedBuildKey) {
			if k == key {
				mu.Lock()
				builds++
				mu.Unlock()
			}
		}
		defer func() { sharedBuildHook = nil }()
	}
	var wg, built sync.WaitGroup
	start := make(chan struct{})
	built.Add(parts)
	for p := 0; p < parts; p++ {
		var probe [][]any
		for i := p; i < 8000; i += parts {
			var k any = val(i - 1000)
			if i%97 == 0 {
				k = nil
			}
			probe = append(probe, []any{k, i})
		}
		left := stream(ls, batch(mem, ls, probe...))
		build.Retain()
		build2.Retain()
		right := stream(rs, build, build2)
		keys := []expr.Expr{expr.NewColumn(0, "k", keyType)}
		s, err := NewHashJoinNullEq(&execution.TaskContext{Alloc: qa, Partition: p}, left, right, typ, keys, keys, nil, nil, nullAware, nil, nil, out)
		if err != nil {
			t.Fatal(err)
		}
		if share {
			ShareBuild(s, key)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Every partition is open at once (as the tasks of a stage
			// are): the first batch comes after the build.
			first, err := s.Next(context.Background())
			built.Done()
			built.Wait()
			var got []string
			switch {
			case err == nil:
				got = renderRows(first)
				first.Release()
				rest, err := drainRows(s)
				if err != nil {
					t.Error(err)
				}
				got = append(got, rest...)
			case err == execution.EOF:
				s.Close()
			default:
				t.Error(err)
				s.Close()
			}
			mu.Lock()
			rows = append(rows, got...)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	sort.Strings(rows)
	if qa.Used() != 0 {
		t.Errorf("query allocator holds %d bytes after every partition closed", qa.Used())
	}
	return rows, qa.Peak(), builds
}

// The partitions of a broadcast join build one hash table between them
// and answer what each would with its own: for every join type a
// broadcast build side serves, with integer and byte keys, NULL keys and
// duplicate build keys. The shared build is accounted once.
func TestSharedBroadcastBuild(t *testing.T) {
	const parts = 4
	cases := []struct {
		typ       JoinType
		nullAware bool
	}{{InnerJoin, false}, {LeftJoin, false}, {SemiJoin, false}, {AntiJoin, false}, {AntiJoin, true}, {MarkJoin, true}}
	for _, kt := range []arrow.DataType{i64, str} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/%v/nullaware=%v", kt, c.typ, c.nullAware), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				own, ownPeak, _ := runPartitions(t, mem, c.typ, kt, c.nullAware, false, parts)
				shared, sharedPeak, builds := runPartitions(t, mem, c.typ, kt, c.nullAware, true, parts)
				if builds != 1 {
					t.Errorf("%d partitions built the shared table %d times, want once", parts, builds)
				}
				if len(own) == 0 {
					t.Fatal("the join produced no rows: the test checks nothing")
				}
				eq(t, shared, own)
				// Unshared, every partition holds a copy of the build side.
				if 2*sharedPeak >= ownPeak {
					t.Errorf("peak memory shared %d, unshared %d: the build is not held once", sharedPeak, ownPeak)
				}
				sharedBuilds.Lock()
				left := len(sharedBuilds.m)
				sharedBuilds.Unlock()
				if left != 0 {
					t.Errorf("%d shared builds still registered after every partition closed", left)
				}
			})
		}
	}
}

// Right and full joins emit the build rows no partition matched, so their
// partitions never share a build (each needs its own match flags).
func TestSharedBuildNotForRightOrFull(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64)
	for _, typ := range []JoinType{RightJoin, FullJoin} {
		k := []expr.Expr{expr.NewColumn(0, "k", i64)}
		j, err := NewHashJoin(tctx(mem, 0), stream(s), stream(s), typ, k, k, nil, false, schemaOf(i64, i64))
		if err != nil {
			t.Fatal(err)
		}
		ShareBuild(j, SharedBuildKey{Alloc: execution.NewQueryAllocator(nil, 0), Query: "q"})
		if j.(*joinStream).shareKey != nil {
			t.Errorf("%v join shares its build", typ)
		}
		j.Close()
	}
}

// A shared build that goes to disk (grace hash join) is not shared: every
// partition builds (and spills) its own, with the same answer.
func TestSharedBuildSpillsUnshared(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ls, rs := schemaOf(i64, i64), schemaOf(i64, str)
	var brows, prows [][]any
	for i := 0; i < 30000; i++ {
		brows = append(brows, []any{i, fmt.Sprintf("payload-%08d", i)})
	}
	for i := 0; i < 3000; i++ {
		prows = append(prows, []any{i * 7, i})
	}
	run := func(share bool) []string {
		qa := execution.NewQueryAllocator(mem, 3<<20)
		key := SharedBuildKey{Alloc: qa, Query: "spill", Stage: 1}
		var all []string
		var mu sync.Mutex
		var wg sync.WaitGroup
		for p := 0; p < 2; p++ {
			tc := &execution.TaskContext{Alloc: qa, SpillDir: t.TempDir()}
			k := []expr.Expr{expr.NewColumn(0, "k", i64)}
			j, err := NewHashJoin(tc, stream(ls, batch(mem, ls, prows[p*1500:(p+1)*1500]...)),
				stream(rs, batch(mem, rs, brows[:15000]...), batch(mem, rs, brows[15000:]...)), InnerJoin, k, k, nil, false, schemaOf(i64, i64, i64, str))
			if err != nil {
				t.Fatal(err)
			}
			if share {
				ShareBuild(j, key)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				spilled := false
				got, err := drainRows(&spyClose{Stream: j, before: func() { spilled = j.(*joinStream).spill != nil }})
				if err != nil {
					t.Error(err)
				}
				if !spilled {
					t.Error("the build side did not spill: the test checks nothing")
				}
				mu.Lock()
				all = append(all, got...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		sort.Strings(all)
		return all
	}
	want := run(false)
	if len(want) != 3000 {
		t.Fatalf("%d rows, want 3000", len(want))
	}
	eq(t, run(true), want)
}

// drainRows drains and closes s, rendering its rows (safe off the test
// goroutine).
func drainRows(s execution.Stream) ([]string, error) {
	bs, err := execution.Collect(context.Background(), s)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range bs {
		out = append(out, renderRows(b)...)
		b.Release()
	}
	return out, nil
}

// spyClose runs before as s is closed.
type spyClose struct {
	execution.Stream
	before func()
}

func (s *spyClose) Close() error {
	s.before()
	return s.Stream.Close()
}

// failStream fails its first read.
type failStream struct{ execution.Stream }

func (f failStream) Next(context.Context) (arrow.RecordBatch, error) {
	return nil, errors.New("input lost")
}

// A failed shared build fails the partitions waiting on it with the
// builder's error (their input is the same), and a partition arriving
// later (a retried task) builds afresh instead of seeing the old failure.
func TestSharedBuildFailure(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64)
	qa := execution.NewQueryAllocator(mem, 0)
	key := SharedBuildKey{Alloc: qa, Query: "fail", Stage: 1}
	k := []expr.Expr{expr.NewColumn(0, "k", i64)}
	join := func(right execution.Stream) execution.Stream {
		j, err := NewHashJoin(&execution.TaskContext{Alloc: qa}, stream(s, batch(mem, s, []any{1})), right, SemiJoin, k, k, nil, false, s)
		if err != nil {
			t.Fatal(err)
		}
		ShareBuild(j, key)
		return j
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for p := range errs {
		j := join(failStream{stream(s)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[p] = j.Next(context.Background())
			j.Close()
		}()
	}
	wg.Wait()
	for p, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "input lost") {
			t.Errorf("partition %d: %v, want the build's error", p, err)
		}
	}
	got, err := drainRows(join(stream(s, batch(mem, s, []any{1}))))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, got, []string{"1"})
}

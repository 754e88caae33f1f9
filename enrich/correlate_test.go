package enrich

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// bruteForce returns the best (most pairs, then least total distance)
// assignment of units to operations over all injective assignments that
// respect the windows, crossing or not.
func bruteForce(units []unit, cand []int, ops []sockOp) score {
	best := score{}
	used := make([]bool, len(ops))
	var rec func(k int, cur score)
	rec = func(k int, cur score) {
		if k == len(cand) {
			if cur.better(best) || (cur.n == best.n && math.Abs(cur.cost-best.cost) < 1e-9) {
				if cur.better(best) {
					best = cur
				}
			}
			return
		}
		rec(k+1, cur) // unit unpaired
		u := units[cand[k]]
		for j := u.lo; j <= u.hi; j++ {
			if !used[j] {
				used[j] = true
				rec(k+1, score{cur.n + 1, cur.cost + math.Abs(ops[j].t-u.t)})
				used[j] = false
			}
		}
	}
	rec(0, score{})
	return best
}

// TestAssignOptimalBruteForce checks the banded assignment against an
// exhaustive search on random instances: same number of pairs, same total
// distance, each operation used once, pairs inside the windows.
func TestAssignOptimalBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 3000; iter++ {
		nu, no := 1+rng.IntN(6), rng.IntN(7)
		before, after := 0.1+rng.Float64()*2, 0.1+rng.Float64()*2
		ops := make([]sockOp, no)
		for j := range ops {
			ops[j] = sockOp{t: math.Round(rng.Float64()*50) / 10}
		}
		sort.Slice(ops, func(a, b int) bool { return ops[a].t < ops[b].t })
		var units []unit
		var cand []int
		ts := make([]float64, nu)
		for i := range ts {
			ts[i] = math.Round(rng.Float64()*50) / 10
		}
		sort.Float64s(ts)
		for _, x := range ts {
			u := unit{t: x}
			u.lo = sort.Search(len(ops), func(k int) bool { return ops[k].t >= x-before })
			u.hi = sort.Search(len(ops), func(k int) bool { return ops[k].t > x+after }) - 1
			units = append(units, u)
			if u.lo <= u.hi {
				cand = append(cand, len(units)-1)
			}
		}
		pick := assignOptimal(units, cand, ops)
		got := score{}
		seen := map[int]bool{}
		last := -1
		for ci, j := range pick {
			if j < 0 {
				continue
			}
			u := units[cand[ci]]
			if j < u.lo || j > u.hi {
				t.Fatalf("iter %d: unit %d paired outside its window", iter, ci)
			}
			if seen[j] || j <= last {
				t.Fatalf("iter %d: operation %d used twice or pairs cross: %v", iter, j, pick)
			}
			seen[j], last = true, j
			got.n++
			got.cost += math.Abs(ops[j].t - u.t)
		}
		want := bruteForce(units, cand, ops)
		if got.n != want.n || math.Abs(got.cost-want.cost) > 1e-9 {
			t.Fatalf("iter %d: got %d pairs cost %.3f, exhaustive search %d pairs cost %.3f (units %v ops %v)", iter, got.n, got.cost, want.n, want.cost, ts, ops)
		}
		// The greedy fallback never pairs more than the optimum and never
		// crosses.
		g := assignGreedy(units, cand, ops)
		gn, glast := int32(0), -1
		for _, j := range g {
			if j >= 0 {
				if j <= glast {
					t.Fatalf("iter %d: greedy pairs cross", iter)
				}
				glast = j
				gn++
			}
		}
		if gn > want.n {
			t.Fatalf("iter %d: greedy paired %d, more than the optimum %d", iter, gn, want.n)
		}
	}
}

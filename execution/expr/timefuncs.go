package expr

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// TIME arithmetic: TIMEDIFF, ADDTIME/SUBTIME, TIME_TO_SEC, SEC_TO_TIME,
// MAKEDATE, MAKETIME, TIME(x), TIMESTAMP(x[, t]).

// usPerSec as a float, and maxTimeUS = 838:59:59, the bound of MySQL's TIME range.
const usPerSecF = float64(usPerSec)

const maxTimeUS = (838*3600 + 59*60 + 59) * usPerSec

func clampTime(us int64) int64 { return max(-maxTimeUS, min(us, maxTimeUS)) }

// timeOrDatetimeArg keeps DATETIME and TIME arguments, reads DATE as
// DATETIME and leaves strings (and numbers, as strings) to be classified per
// value: MySQL decides from the text whether it is a DATETIME or a TIME.
func timeOrDatetimeArg(t arrow.DataType) arrow.DataType {
	switch t.ID() {
	case arrow.TIMESTAMP, arrow.TIME64:
		return t
	case arrow.DATE32:
		return tTS
	case arrow.NULL:
		return tTime
	}
	return tString
}

// tempValues reads row i of a DATETIME, TIME or string array as µs and
// whether it is a DATETIME (a string is a DATETIME when it parses as a date,
// else a TIME); ok=false for an invalid string.
func tempValues(a arrow.Array) func(i int) (us int64, isTS, ok bool) {
	switch v := a.(type) {
	case *array.Timestamp:
		vals := v.TimestampValues()
		return func(i int) (int64, bool, bool) { return int64(vals[i]), true, true }
	case *array.Time64:
		vals := v.Time64Values()
		return func(i int) (int64, bool, bool) { return int64(vals[i]), false, true }
	}
	s := stringValues(a)
	return func(i int) (int64, bool, bool) {
		if p, ok := parseDateTimeStr(s(i)); ok {
			return p.ts(), true, true
		}
		us, ok := parseTimeStr(s(i))
		return us, false, ok
	}
}

func resolveTimediff(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	return Signature{Args: []arrow.DataType{timeOrDatetimeArg(in[0]), timeOrDatetimeArg(in[1])}, Return: tTime}, nil
}

// bindTimediff: TIMEDIFF(a, b) = a - b as a TIME (clamped to ±838:59:59);
// NULL when one is a DATETIME and the other a TIME.
func bindTimediff(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if anyNullType(args) {
			return allNull(ec.mem, tTime, ec.n), nil
		}
		a, b := tempValues(args[0]), tempValues(args[1])
		return mapInt64As(ec, tTime, args, func(i int) (int64, bool) {
			x, xts, ok1 := a(i)
			y, yts, ok2 := b(i)
			if !ok1 || !ok2 || xts != yts {
				return 0, false
			}
			return clampTime(x - y), true
		}), nil
	}, nil
}

func anyNullType(args []arrow.Array) bool {
	for _, a := range args {
		if a != nil && a.DataType().ID() == arrow.NULL {
			return true
		}
	}
	return false
}

func resolveAddtime(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	a := timeOrDatetimeArg(in[0])
	return Signature{Args: []arrow.DataType{a, tTime}, Return: a}, nil
}

// bindAddtime: ADDTIME/SUBTIME(x, t): a DATETIME stays in the DATETIME range
// (NULL outside), a TIME is clamped, a string gives a string of the kind it
// was read as.
func bindAddtime(c *Call) (kernelFn, error) {
	sign := int64(1)
	if c.Name == "subtime" {
		sign = -1
	}
	add := func(x int64, isTS bool, d int64) (int64, bool) {
		r := x + sign*d
		if isTS {
			return r, r >= -mysqlDayZero*usPerDay && r <= maxTS
		}
		return clampTime(r), true
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if anyNullType(args) {
			return allNull(ec.mem, ec.call.Type, ec.n), nil
		}
		a := tempValues(args[0])
		dv := args[1].(*array.Time64).Time64Values()
		if isStr(ec.call.Type) {
			return mapString(ec, args, func(buf []byte, i int) ([]byte, bool) {
				x, isTS, ok := a(i)
				if !ok {
					return buf, false
				}
				r, ok := add(x, isTS, int64(dv[i]))
				if !ok {
					return buf, false
				}
				if isTS {
					return appendTS(buf, r), true
				}
				return appendClock(buf, r), true
			}), nil
		}
		return mapInt64As(ec, ec.call.Type, args, func(i int) (int64, bool) {
			x, isTS, _ := a(i)
			return add(x, isTS, int64(dv[i]))
		}), nil
	}, nil
}

// resolveTimeArg types TIME_TO_SEC and TIME(x): strings read as TIME unless
// they hold a date.
func resolveTimeArg(ret arrow.DataType) resolver {
	return func(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
		return Signature{Args: []arrow.DataType{timeOrDatetimeArg(in[0])}, Return: ret}, nil
	}
}

// timeOfValue is the TIME part of a DATETIME, or the TIME itself.
func timeOfValue(us int64, isTS bool) int64 {
	if isTS {
		_, us = splitTS(us)
	}
	return us
}

func bindTimeOf(c *Call) (kernelFn, error) {
	secs := c.Name == "time_to_sec"
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		t := ec.call.Type
		if anyNullType(args) {
			return allNull(ec.mem, t, ec.n), nil
		}
		a := tempValues(args[0])
		return mapInt64As(ec, t, args, func(i int) (int64, bool) {
			us, isTS, ok := a(i)
			us = timeOfValue(us, isTS)
			if secs {
				us /= usPerSec
			}
			return us, ok
		}), nil
	}, nil
}

func resolveSecToTime(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := numericize(fillNulls(in, tInt)[0])
	if t.ID() != arrow.INT64 {
		t = tFloat
	}
	return Signature{Args: []arrow.DataType{t}, Return: tTime}, nil
}

// bindSecToTime: seconds to a TIME, clamped to ±838:59:59 (MySQL).
func bindSecToTime(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		switch a := args[0].(type) {
		case *array.Int64:
			v := a.Int64Values()
			return mapInt64As(ec, tTime, args, func(i int) (int64, bool) {
				const lim = 839 * 3600 // beyond the TIME range, avoids overflow
				return clampTime(max(-lim, min(v[i], lim)) * usPerSec), true
			}), nil
		case *array.Float64:
			v := a.Float64Values()
			return mapInt64As(ec, tTime, args, func(i int) (int64, bool) {
				f := math.Round(v[i] * usPerSecF)
				if math.IsNaN(f) {
					return 0, false
				}
				return int64(max(-float64(maxTimeUS), min(f, float64(maxTimeUS)))), true
			}), nil
		}
		return allNull(ec.mem, tTime, ec.n), nil
	}, nil
}

// makeDate is MySQL MAKEDATE(year, dayofyear); two-digit years as in dates.
func makeDate(y, doy int64) (int32, bool) {
	if doy <= 0 || doy > 10000*366 || y < 0 || y > 9999 {
		return 0, false
	}
	y = twoDigitYear(y)
	d := daysFromCivil(y, 1, 1) + doy - 1
	if d > daysFromCivil(9999, 12, 31) {
		return 0, false
	}
	return int32(d), true
}

// makeTime is MySQL MAKETIME(h, m, s): NULL unless 0 <= m, s < 60; clamped
// to ±838:59:59.
func makeTime(h, m int64, s float64) (int64, bool) {
	if m < 0 || m > 59 || !(s >= 0 && s < 60) {
		return 0, false
	}
	neg := h < 0
	h = min(max(h, -839), 839) // also keeps abs64 away from MinInt64
	h = abs64(h)
	us := (h*3600+m*60)*usPerSec + int64(math.Round(s*usPerSecF))
	return clampTime(signed(us, neg)), true
}

func resolveTimestampFn(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	// The kernel reads a DATETIME: a DATE (or string) is cast to one.
	sig := Signature{Args: []arrow.DataType{tTS}, Return: tTS}
	if len(in) == 2 {
		sig.Args = append(sig.Args, tTime)
	}
	return sig, nil
}

// bindTimestampFn: TIMESTAMP(x) is x as a DATETIME, TIMESTAMP(x, t) adds
// the TIME t.
func bindTimestampFn(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if anyNullType(args) {
			return allNull(ec.mem, tTS, ec.n), nil
		}
		ts := args[0].(*array.Timestamp).TimestampValues()
		var d []arrow.Time64
		if len(args) == 2 {
			d = args[1].(*array.Time64).Time64Values()
		}
		return mapInt64As(ec, tTS, args, func(i int) (int64, bool) {
			r := int64(ts[i])
			if d != nil {
				r += int64(d[i])
			}
			return r, r >= -mysqlDayZero*usPerDay && r <= maxTS
		}), nil
	}, nil
}

var timeKernels = map[string]binder{
	"timediff": bindTimediff, "addtime": bindAddtime, "subtime": bindAddtime,
	"time_to_sec": bindTimeOf, "time": bindTimeOf, "sec_to_time": bindSecToTime,
	"makedate": func(c *Call) (kernelFn, error) {
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			if anyNullType(args) {
				return allNull(ec.mem, tDate, ec.n), nil
			}
			ra := argsOf(args)
			v := mergeValidity(ec.mem, ec.n, args...)
			defer release(v)
			bits := bitsOf(v)
			dbuf, out := newValues[int32](ec.mem, ec.n)
			vbuf, vb := newBitmap(ec.mem, ec.n)
			for i := range out {
				if !valid(bits, i) {
					continue
				}
				if d, ok := makeDate(ra.ints[0][i], ra.ints[1][i]); ok {
					out[i] = d
					vb[i>>3] |= 1 << (i & 7)
				}
			}
			return makeArray(tDate, ec.n, vbuf, dbuf), nil
		}, nil
	},
	"maketime": func(c *Call) (kernelFn, error) {
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			if anyNullType(args) {
				return allNull(ec.mem, tTime, ec.n), nil
			}
			ra := argsOf(args)
			return mapInt64As(ec, tTime, args, func(i int) (int64, bool) {
				return makeTime(ra.ints[0][i], ra.ints[1][i], ra.flts[2][i])
			}), nil
		}, nil
	},
	"timestamp": bindTimestampFn,
}

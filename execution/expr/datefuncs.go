package expr

import (
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/qerr"
)

// Date/time kernels over Date32 (days), Timestamp(µs) and Time64(µs), using
// civil-from-days arithmetic (no time.Time per row).

// mysqlDayZero is TO_DAYS('1970-01-01').
const mysqlDayZero = 719528

// temporalRows reads row i of a Date32/Timestamp/Time64 array as days since
// the epoch and µs within the day (a TIME has days 0 and may exceed a day).
func temporalRows(a arrow.Array) (func(i int) (days, us int64), error) {
	switch v := a.(type) {
	case *array.Date32:
		vals := v.Date32Values()
		return func(i int) (int64, int64) { return int64(vals[i]), 0 }, nil
	case *array.Timestamp:
		vals := v.TimestampValues()
		return func(i int) (int64, int64) { return splitTS(int64(vals[i])) }, nil
	case *array.Time64:
		vals := v.Time64Values()
		return func(i int) (int64, int64) { return 0, int64(vals[i]) }, nil
	}
	return nil, qerr.New(qerr.Internal, "expected a date/time argument, got %s", a.DataType())
}

func checkTemporal(c *Call, i int) error {
	if t := c.Args[i].DataType(); !isTemporal(t) && t.ID() != arrow.NULL {
		return qerr.New(qerr.Internal, "%s: argument %d is %s, not a date/time", c.Name, i+1, t)
	}
	return nil
}

// tempIntKernel maps a temporal argument to BIGINT via f(days, us, row).
func tempIntKernel(f func(days, us int64, ec *evalCtx, ra rowArgs, i int) (int64, bool)) binder {
	return func(c *Call) (kernelFn, error) {
		if err := checkTemporal(c, 0); err != nil {
			return nil, err
		}
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			if args[0].DataType().ID() == arrow.NULL {
				return allNull(ec.mem, tInt, ec.n), nil
			}
			at, err := temporalRows(args[0])
			if err != nil {
				return nil, err
			}
			ra := argsOf(args)
			return mapInt(ec, args, func(i int) (int64, bool) {
				d, us := at(i)
				return f(d, us, ec, ra, i)
			}), nil
		}, nil
	}
}

func yearOf(days int64) int64 { y, _, _ := civilFromDays(days); return y }
func dayOfYear(days int64) int64 {
	y, _, _ := civilFromDays(days)
	return days - daysFromCivil(y, 1, 1) + 1
}

// calcWeek is MySQL's calc_week: the week number and its year for a mode's
// flags (1 = Monday first, 2 = week year, 4 = first weekday rule).
func calcWeek(days int64, flags int) (year, week int64) {
	const mondayFirst, weekYear, firstWeekday = 1, 2, 4
	y, m, d := civilFromDays(days)
	daynr := days + mysqlDayZero
	firstDaynr := daysFromCivil(y, 1, 1) + mysqlDayZero
	sundayFirst := int64(1)
	if flags&mondayFirst != 0 {
		sundayFirst = 0
	}
	wy := flags&weekYear != 0
	fw := flags&firstWeekday != 0
	weekday := (firstDaynr + 5 + sundayFirst) % 7
	year = y
	if m == 1 && d <= 7-weekday {
		if !wy && ((fw && weekday != 0) || (!fw && weekday >= 4)) {
			return year, 0
		}
		wy = true
		year--
		dy := int64(365)
		if isLeap(year) {
			dy = 366
		}
		firstDaynr -= dy
		weekday = (weekday + 53*7 - dy) % 7
	}
	var n int64
	if (fw && weekday != 0) || (!fw && weekday >= 4) {
		n = daynr - (firstDaynr + (7 - weekday))
	} else {
		n = daynr - (firstDaynr - weekday)
	}
	if wy && n >= 52*7 {
		dy := int64(365)
		if isLeap(year) {
			dy = 366
		}
		weekday = (weekday + dy) % 7
		if (!fw && weekday < 4) || (fw && weekday == 0) {
			return year + 1, 1
		}
	}
	return year, n/7 + 1
}

// weekMode maps WEEK()'s mode argument to calc_week flags (MySQL week_mode).
func weekMode(mode int64) int {
	m := int(mode & 7)
	if m&1 == 0 {
		m ^= 4
	}
	return m
}

func extractPart(u extractUnit, days, us int64) int64 {
	if parts, ok := compoundParts[u]; ok {
		var v int64
		for _, p := range parts {
			width := int64(100)
			if p == extMicrosecond {
				width = usPerSec
			}
			v = v*width + extractPart(p, days, us)
		}
		return v
	}
	switch u {
	case extYear:
		return yearOf(days)
	case extQuarter:
		_, m, _ := civilFromDays(days)
		return (m + 2) / 3
	case extMonth:
		_, m, _ := civilFromDays(days)
		return m
	case extWeek:
		_, w := calcWeek(days, weekMode(0))
		return w
	case extDay:
		_, _, d := civilFromDays(days)
		return d
	case extHour:
		return us / (3600 * usPerSec)
	case extMinute:
		return us / (60 * usPerSec) % 60
	case extSecond:
		return us / usPerSec % 60
	}
	return us % usPerSec
}

func partKernel(u extractUnit) binder {
	return tempIntKernel(func(days, us int64, _ *evalCtx, _ rowArgs, _ int) (int64, bool) {
		return extractPart(u, days, us), true
	})
}

// bindExtract binds EXTRACT(unit FROM x): unit must be a constant.
func bindExtract(c *Call) (kernelFn, error) {
	lit, ok := c.Args[0].(*Literal)
	s, ok2 := "", false
	if ok {
		s, ok2 = constString(lit.Value)
	}
	if !ok2 {
		return nil, qerr.New(qerr.InvalidArgument, "EXTRACT unit must be a constant")
	}
	u, err := parseExtractUnit(s)
	if err != nil {
		return nil, err
	}
	c.consume(0)
	inner := &Call{Name: c.Name, Args: c.Args[1:], Type: c.Type}
	k, err := partKernel(u)(inner)
	if err != nil {
		return nil, err
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) { return k(ec, args[1:]) }, nil
}

// addMonths adds n months to a date, clamping the day to the month's end.
func addMonths(days, n int64) (int64, bool) {
	y, m, d := civilFromDays(days)
	t := y*12 + (m - 1) + n
	ny, nm := floorDiv(t, 12), t-floorDiv(t, 12)*12+1
	if ny < 0 || ny > 9999 {
		return 0, false
	}
	return daysFromCivil(ny, nm, min(d, daysInMonth(ny, nm))), true
}

var unitMicros = map[intervalUnit]int64{
	unitMicrosecond: 1, unitSecond: usPerSec, unitMinute: 60 * usPerSec, unitHour: 3600 * usPerSec,
	unitDay: usPerDay, unitWeek: 7 * usPerDay,
}

// maxTS is 9999-12-31 23:59:59.999999, the end of MySQL's DATETIME range.
var maxTS = daysFromCivil(10000, 1, 1)*usPerDay - 1

// bindDateAdd binds date_add/date_sub(d, n, unit) with a constant unit.
func bindDateAdd(c *Call) (kernelFn, error) {
	lit, ok := c.Args[2].(*Literal)
	s, ok2 := "", false
	if ok {
		s, ok2 = constString(lit.Value)
	}
	if !ok2 {
		return nil, qerr.New(qerr.InvalidArgument, "INTERVAL unit must be a constant")
	}
	u, err := parseIntervalUnit(s)
	if err != nil {
		return nil, err
	}
	if err := checkTemporal(c, 0); err != nil {
		return nil, err
	}
	c.consume(2)
	sign := int64(1)
	if c.Name == "date_sub" {
		sign = -1
	}
	retDate := c.Type.ID() == arrow.DATE32
	if retDate && (!u.dateOnly() || c.Args[0].DataType().ID() != arrow.DATE32) {
		return nil, qerr.New(qerr.Internal, "%s: DATE result needs a DATE argument and a date unit", c.Name)
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if args[0].DataType().ID() == arrow.NULL {
			return allNull(ec.mem, ec.call.Type, ec.n), nil
		}
		at, err := temporalRows(args[0])
		if err != nil {
			return nil, err
		}
		// amount reads row i's interval as a count of step µs, or of
		// months for month units.
		var amount func(i int) (int64, bool)
		step := int64(1) // compound units and fractional seconds count µs
		switch n := args[1].(type) {
		case *array.String:
			amount = func(i int) (int64, bool) { return parseCompoundInterval(n.Value(i), u) }
		case *array.Decimal128:
			amount = func(i int) (int64, bool) { return decI64(n.Value(i)) }
		default:
			step = unitMicros[u]
			nv := args[1].(*array.Int64).Int64Values()
			amount = func(i int) (int64, bool) { return nv[i], true }
		}
		// add returns the new (days, us) or false when out of range.
		add := func(i int) (int64, int64, bool) {
			days, us := at(i)
			k, ok := amount(i)
			if !ok {
				return 0, 0, false
			}
			k *= sign
			switch u {
			case unitMonth, unitQuarter, unitYear, unitYearMonth:
				mul := map[intervalUnit]int64{unitMonth: 1, unitQuarter: 3, unitYear: 12, unitYearMonth: 1}[u]
				if k > 120000 || k < -120000 {
					return 0, 0, false
				}
				nd, ok := addMonths(days, k*mul)
				return nd, us, ok
			}
			if k > maxTS/step || k < -maxTS/step {
				return 0, 0, false
			}
			t := days*usPerDay + us + k*step
			if t < 0-719528*usPerDay || t > maxTS {
				return 0, 0, false
			}
			nd, nus := splitTS(t)
			return nd, nus, true
		}
		if retDate {
			return mapValues(ec.mem, args[0], tDate, func(i int) (int32, bool) {
				if args[1].IsNull(i) {
					return 0, false
				}
				d, _, ok := add(i)
				return int32(d), ok
			}), nil
		}
		return mapValues(ec.mem, args[0], ec.call.Type, func(i int) (int64, bool) {
			if args[1].IsNull(i) {
				return 0, false
			}
			d, us, ok := add(i)
			return d*usPerDay + us, ok
		}), nil
	}, nil
}

// bindToDate implements DATE(x) and LAST_DAY(x).
func bindToDate(c *Call) (kernelFn, error) {
	if err := checkTemporal(c, 0); err != nil {
		return nil, err
	}
	last := c.Name == "last_day"
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if args[0].DataType().ID() == arrow.NULL {
			return allNull(ec.mem, tDate, ec.n), nil
		}
		at, err := temporalRows(args[0])
		if err != nil {
			return nil, err
		}
		return mapValues(ec.mem, args[0], tDate, func(i int) (int32, bool) {
			d, _ := at(i)
			if last {
				y, m, _ := civilFromDays(d)
				d = daysFromCivil(y, m, daysInMonth(y, m))
			}
			return int32(d), true
		}), nil
	}, nil
}

func bindDatediff(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		a, ok1 := args[0].(*array.Date32)
		b, ok2 := args[1].(*array.Date32)
		if !ok1 || !ok2 {
			return allNull(ec.mem, tInt, ec.n), nil
		}
		av, bv := a.Date32Values(), b.Date32Values()
		return mapInt(ec, args, func(i int) (int64, bool) { return int64(av[i]) - int64(bv[i]), true }), nil
	}, nil
}

// bindTimestampdiff: TIMESTAMPDIFF(unit, a, b) = whole units from a to b.
func bindTimestampdiff(c *Call) (kernelFn, error) {
	lit, ok := c.Args[0].(*Literal)
	s, ok2 := "", false
	if ok {
		s, ok2 = constString(lit.Value)
	}
	if !ok2 {
		return nil, qerr.New(qerr.InvalidArgument, "TIMESTAMPDIFF unit must be a constant")
	}
	u, err := parseIntervalUnit(s)
	if err != nil {
		return nil, err
	}
	if u.compound() {
		return nil, qerr.New(qerr.InvalidArgument, "TIMESTAMPDIFF does not take the unit %s", s)
	}
	c.consume(0)
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		a, ok1 := args[1].(*array.Timestamp)
		b, ok2 := args[2].(*array.Timestamp)
		if !ok1 || !ok2 {
			return allNull(ec.mem, tInt, ec.n), nil
		}
		av, bv := a.TimestampValues(), b.TimestampValues()
		return mapInt(ec, args[1:], func(i int) (int64, bool) {
			x, y := int64(av[i]), int64(bv[i])
			switch u {
			case unitMonth, unitQuarter, unitYear:
				m := monthsBetween(x, y)
				return m / map[intervalUnit]int64{unitMonth: 1, unitQuarter: 3, unitYear: 12}[u], true
			}
			return (y - x) / unitMicros[u], true
		}), nil
	}, nil
}

// monthsBetween counts whole months from x to y (MySQL: a month is complete
// when the day-and-time of y reaches that of x).
func monthsBetween(x, y int64) int64 {
	neg := y < x
	if neg {
		x, y = y, x
	}
	dx, ux := splitTS(x)
	dy, uy := splitTS(y)
	y1, m1, d1 := civilFromDays(dx)
	y2, m2, d2 := civilFromDays(dy)
	months := (y2-y1)*12 + (m2 - m1)
	if d2 < d1 || (d2 == d1 && uy < ux) {
		months--
	}
	return signed(months, neg)
}

func bindToDays(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		a, ok := args[0].(*array.Date32)
		if !ok {
			return allNull(ec.mem, tInt, ec.n), nil
		}
		v := a.Date32Values()
		return mapInt(ec, args, func(i int) (int64, bool) { return int64(v[i]) + mysqlDayZero, true }), nil
	}, nil
}

func bindFromDays(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		a, ok := args[0].(*array.Int64)
		if !ok {
			return allNull(ec.mem, tDate, ec.n), nil
		}
		v := a.Int64Values()
		maxDay := daysFromCivil(9999, 12, 31) + mysqlDayZero
		return mapValues(ec.mem, a, tDate, func(i int) (int32, bool) {
			return int32(v[i] - mysqlDayZero), v[i] >= 366 && v[i] <= maxDay
		}), nil
	}, nil
}

func bindUnixTimestamp(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		a, ok := args[0].(*array.Timestamp)
		if !ok {
			return allNull(ec.mem, tInt, ec.n), nil
		}
		v := a.TimestampValues()
		return mapInt(ec, args, func(i int) (int64, bool) {
			t := floorDiv(int64(v[i]), usPerSec)
			return max(t, 0), true
		}), nil
	}, nil
}

// bindFromUnixtime: seconds since the epoch (UTC) to DATETIME.
func bindFromUnixtime(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		inRange := func(us int64) bool { return us >= 0 && us <= maxTS }
		switch a := args[0].(type) {
		case *array.Int64:
			v := a.Int64Values()
			return mapValues(ec.mem, a, tTS, func(i int) (int64, bool) {
				return v[i] * usPerSec, v[i] >= 0 && v[i] <= maxTS/usPerSec
			}), nil
		case *array.Uint64:
			v := a.Uint64Values()
			return mapValues(ec.mem, a, tTS, func(i int) (int64, bool) {
				return int64(v[i]) * usPerSec, v[i] <= uint64(maxTS/usPerSec)
			}), nil
		case *array.Float64:
			v := a.Float64Values()
			return mapValues(ec.mem, a, tTS, func(i int) (int64, bool) {
				us := math.Round(v[i] * 1e6)
				return int64(us), us >= 0 && us <= float64(maxTS)
			}), nil
		case *array.Decimal128:
			s := a.DataType().(*arrow.Decimal128Type).Scale
			v := a.Values()
			return mapValues(ec.mem, a, tTS, func(i int) (int64, bool) {
				us, ok := decRescale(v[i], s, 6)
				if !ok {
					return 0, false
				}
				r, ok := decI64(us)
				return r, ok && inRange(r)
			}), nil
		}
		return allNull(ec.mem, tTS, ec.n), nil
	}, nil
}

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
)

// appendDateFormat formats like MySQL DATE_FORMAT.
func appendDateFormat(b []byte, days, us int64, f string) []byte {
	y, m, d := civilFromDays(days)
	secs := us / usPerSec
	h, mi, s := secs/3600, secs/60%60, secs%60
	wd := weekdayOf(days) // 0 = Monday
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b = append(b, f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b = appendPad(b, y, 4)
		case 'y':
			b = appendPad(b, y%100, 2)
		case 'm':
			b = appendPad(b, m, 2)
		case 'c':
			b = appendPad(b, m, 1)
		case 'd':
			b = appendPad(b, d, 2)
		case 'e':
			b = appendPad(b, d, 1)
		case 'D':
			b = appendPad(b, d, 1)
			switch {
			case d >= 11 && d <= 13:
				b = append(b, "th"...)
			case d%10 == 1:
				b = append(b, "st"...)
			case d%10 == 2:
				b = append(b, "nd"...)
			case d%10 == 3:
				b = append(b, "rd"...)
			default:
				b = append(b, "th"...)
			}
		case 'M':
			b = append(b, monthNames[m-1]...)
		case 'b':
			b = append(b, monthNames[m-1][:3]...)
		case 'W':
			b = append(b, dayNames[wd]...)
		case 'a':
			b = append(b, dayNames[wd][:3]...)
		case 'w':
			b = appendPad(b, (wd+1)%7, 1)
		case 'j':
			b = appendPad(b, dayOfYear(days), 3)
		case 'H':
			b = appendPad(b, h, 2)
		case 'k':
			b = appendPad(b, h, 1)
		case 'h', 'I':
			b = appendPad(b, (h+11)%12+1, 2)
		case 'l':
			b = appendPad(b, (h+11)%12+1, 1)
		case 'i':
			b = appendPad(b, mi, 2)
		case 's', 'S':
			b = appendPad(b, s, 2)
		case 'f':
			b = appendPad(b, us%usPerSec, 6)
		case 'p':
			if h%24 < 12 {
				b = append(b, "AM"...)
			} else {
				b = append(b, "PM"...)
			}
		case 'T':
			b = appendPad(b, h, 2)
			b = append(b, ':')
			b = appendPad(b, mi, 2)
			b = append(b, ':')
			b = appendPad(b, s, 2)
		case 'r':
			b = appendPad(b, (h+11)%12+1, 2)
			b = append(b, ':')
			b = appendPad(b, mi, 2)
			b = append(b, ':')
			b = appendPad(b, s, 2)
			if h%24 < 12 {
				b = append(b, " AM"...)
			} else {
				b = append(b, " PM"...)
			}
		case 'U', 'u', 'V', 'v':
			flags := map[byte]int{'U': 4, 'u': 1, 'V': 6, 'v': 3}[f[i]]
			_, w := calcWeek(days, flags)
			b = appendPad(b, w, 2)
		case 'X', 'x':
			flags := map[byte]int{'X': 6, 'x': 3}[f[i]]
			wy, _ := calcWeek(days, flags)
			b = appendPad(b, wy, 4)
		default:
			b = append(b, f[i])
		}
	}
	return b
}

func bindDateFormat(c *Call) (kernelFn, error) {
	if err := checkTemporal(c, 0); err != nil {
		return nil, err
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if args[0].DataType().ID() == arrow.NULL {
			return allNull(ec.mem, tString, ec.n), nil
		}
		at, err := temporalRows(args[0])
		if err != nil {
			return nil, err
		}
		ra := argsOf(args)
		return mapString(ec, args, func(buf []byte, i int) ([]byte, bool) {
			d, us := at(i)
			f := ra.strs[1](i)
			if f == "" {
				return buf, false // MySQL: an empty format gives NULL
			}
			return appendDateFormat(buf, d, us, f), true
		}), nil
	}, nil
}

// parseStrToDate parses s with a MySQL format; ok=false gives NULL.
func parseStrToDate(s, f string) (p dateParts, ok bool) {
	p.y, p.mo, p.d = 0, 1, 1
	var pm, hasPM, hour12 bool
	num := func(maxDigits int) (int64, bool) {
		i, v := 0, int64(0)
		for i < len(s) && i < maxDigits && isDigit(s[i]) {
			v = v*10 + int64(s[i]-'0')
			i++
		}
		if i == 0 {
			return 0, false
		}
		s = s[i:]
		return v, true
	}
	name := func(names []string, abbr bool) (int64, bool) {
		for k, n := range names {
			if abbr {
				n = n[:3]
			}
			if len(s) >= len(n) && strings.EqualFold(s[:len(n)], n) {
				s = s[len(n):]
				return int64(k), true
			}
		}
		return 0, false
	}
	var yday int64
	var date, month, day bool // the format's date parts
	for i := 0; i < len(f); i++ {
		if f[i] == ' ' {
			s = strings.TrimLeft(s, " ")
			continue
		}
		if f[i] != '%' || i+1 == len(f) {
			if s == "" || s[0] != f[i] {
				return p, false
			}
			s = s[1:]
			continue
		}
		i++
		switch f[i] {
		case 'Y', 'y':
			date = true
		case 'm', 'c', 'M', 'b':
			date, month = true, true
		case 'd', 'e', 'D':
			date, day = true, true
		case 'j':
			date, month, day = true, true, true
		}
		var v int64
		switch f[i] {
		case 'Y':
			v, ok = num(4)
			p.y = v
			if ok && v < 100 {
				p.y = twoDigitYear(v)
			}
		case 'y':
			v, ok = num(2)
			p.y = twoDigitYear(v)
		case 'm', 'c':
			p.mo, ok = num(2)
		case 'd', 'e':
			p.d, ok = num(2)
		case 'D':
			p.d, ok = num(2)
			if ok && len(s) >= 2 {
				s = s[2:]
			}
		case 'H', 'k':
			p.h, ok = num(2)
		case 'h', 'I', 'l':
			p.h, ok = num(2)
			hour12 = true
		case 'i':
			p.mi, ok = num(2)
		case 's', 'S':
			p.s, ok = num(2)
		case 'f':
			st := len(s)
			v, ok = num(6)
			p.us = fracToMicros(v, st-len(s))
		case 'p':
			ok = len(s) >= 2
			if ok {
				switch strings.ToUpper(s[:2]) {
				case "AM":
				case "PM":
					pm = true
				default:
					ok = false
				}
				s, hasPM = s[2:], true
			}
		case 'M':
			v, ok = name(monthNames, false)
			p.mo = v + 1
		case 'b':
			v, ok = name(monthNames, true)
			p.mo = v + 1
		case 'W':
			_, ok = name(dayNames, false)
		case 'a':
			_, ok = name(dayNames, true)
		case 'j':
			yday, ok = num(3)
		case 'T':
			var q dateParts
			q, ok = parseStrToDate(s, "%H:%i:%s")
			if ok {
				p.h, p.mi, p.s = q.h, q.mi, q.s
				s = strings.TrimLeft(s, "0123456789:")
			}
		case '%':
			ok = s != "" && s[0] == '%'
			if ok {
				s = s[1:]
			}
		default:
			ok = s != "" && s[0] == f[i]
			if ok {
				s = s[1:]
			}
		}
		if !ok {
			return p, false
		}
	}
	if hour12 || hasPM {
		if p.h < 1 || p.h > 12 {
			return p, false
		}
		p.h %= 12
		if pm {
			p.h += 12
		}
	}
	if date && (!month || !day) {
		return p, false // a zero month or day: NULL under MySQL 8's NO_ZERO_IN_DATE
	}
	if yday > 0 {
		days := daysFromCivil(p.y, 1, 1) + yday - 1
		p.y, p.mo, p.d = civilFromDays(days)
	}
	return p, p.valid()
}

func bindStrToDate(c *Call) (kernelFn, error) {
	ret := c.Type
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if args[0].DataType().ID() == arrow.NULL || args[1].DataType().ID() == arrow.NULL {
			return allNull(ec.mem, ret, ec.n), nil
		}
		ra := argsOf(args)
		in := args[0]
		parse := func(i int) (dateParts, bool) {
			if args[1].IsNull(i) {
				return dateParts{}, false
			}
			return parseStrToDate(ra.strs[0](i), ra.strs[1](i))
		}
		switch ret.ID() {
		case arrow.DATE32:
			return mapValues(ec.mem, in, ret, func(i int) (int32, bool) {
				p, ok := parse(i)
				return int32(p.days()), ok
			}), nil
		case arrow.TIME64:
			return mapValues(ec.mem, in, ret, func(i int) (int64, bool) {
				p, ok := parse(i)
				return ((p.h*60+p.mi)*60+p.s)*usPerSec + p.us, ok
			}), nil
		}
		return mapValues(ec.mem, in, ret, func(i int) (int64, bool) {
			p, ok := parse(i)
			return p.ts(), ok
		}), nil
	}, nil
}

var dateKernels = map[string]binder{
	"year": partKernel(extYear), "quarter": partKernel(extQuarter), "month": partKernel(extMonth),
	"day": partKernel(extDay), "hour": partKernel(extHour), "minute": partKernel(extMinute),
	"second": partKernel(extSecond),
	"dayofweek": tempIntKernel(func(d, _ int64, _ *evalCtx, _ rowArgs, _ int) (int64, bool) {
		return (weekdayOf(d)+1)%7 + 1, true
	}),
	"weekday": tempIntKernel(func(d, _ int64, _ *evalCtx, _ rowArgs, _ int) (int64, bool) {
		return weekdayOf(d), true
	}),
	"dayofyear": tempIntKernel(func(d, _ int64, _ *evalCtx, _ rowArgs, _ int) (int64, bool) {
		return dayOfYear(d), true
	}),
	"week": tempIntKernel(func(d, _ int64, _ *evalCtx, ra rowArgs, i int) (int64, bool) {
		mode := int64(0)
		if len(ra.ints) > 1 && ra.ints[1] != nil {
			mode = ra.ints[1][i]
		}
		_, w := calcWeek(d, weekMode(mode))
		return w, true
	}),
	"extract": bindExtract, "date_add": bindDateAdd, "date_sub": bindDateAdd,
	"date": bindToDate, "last_day": bindToDate, "date_format": bindDateFormat,
	"str_to_date": bindStrToDate, "datediff": bindDatediff, "timestampdiff": bindTimestampdiff,
	"to_days": bindToDays, "from_days": bindFromDays,
	"unix_timestamp": bindUnixTimestamp, "from_unixtime": bindFromUnixtime,
}

package expr

import (
	"math"
	"math/bits"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/qerr"
)

// intervalUnit is a DATE_ADD/DATE_SUB/TIMESTAMPDIFF unit.
type intervalUnit int

const (
	unitMicrosecond intervalUnit = iota
	unitSecond
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitQuarter
	unitYear
	// Compound units take a string of several fields ('1:30' HOUR_MINUTE).
	unitYearMonth
	unitDayHour
	unitDayMinute
	unitDaySecond
	unitDayMicrosecond
	unitHourMinute
	unitHourSecond
	unitHourMicrosecond
	unitMinuteSecond
	unitMinuteMicrosecond
	unitSecondMicrosecond
)

var intervalUnits = map[string]intervalUnit{
	"MICROSECOND": unitMicrosecond, "SECOND": unitSecond, "MINUTE": unitMinute, "HOUR": unitHour,
	"DAY": unitDay, "WEEK": unitWeek, "MONTH": unitMonth, "QUARTER": unitQuarter, "YEAR": unitYear,
	"YEAR_MONTH": unitYearMonth, "DAY_HOUR": unitDayHour, "DAY_MINUTE": unitDayMinute,
	"DAY_SECOND": unitDaySecond, "DAY_MICROSECOND": unitDayMicrosecond, "HOUR_MINUTE": unitHourMinute,
	"HOUR_SECOND": unitHourSecond, "HOUR_MICROSECOND": unitHourMicrosecond,
	"MINUTE_SECOND": unitMinuteSecond, "MINUTE_MICROSECOND": unitMinuteMicrosecond,
	"SECOND_MICROSECOND": unitSecondMicrosecond,
}

// compoundFields lists the size of each field of a compound unit, most
// significant first: months for YEAR_MONTH, µs for the others.
var compoundFields = map[intervalUnit][]int64{
	unitYearMonth:         {12, 1},
	unitDayHour:           {usPerDay, 3600 * usPerSec},
	unitDayMinute:         {usPerDay, 3600 * usPerSec, 60 * usPerSec},
	unitDaySecond:         {usPerDay, 3600 * usPerSec, 60 * usPerSec, usPerSec},
	unitDayMicrosecond:    {usPerDay, 3600 * usPerSec, 60 * usPerSec, usPerSec, 1},
	unitHourMinute:        {3600 * usPerSec, 60 * usPerSec},
	unitHourSecond:        {3600 * usPerSec, 60 * usPerSec, usPerSec},
	unitHourMicrosecond:   {3600 * usPerSec, 60 * usPerSec, usPerSec, 1},
	unitMinuteSecond:      {60 * usPerSec, usPerSec},
	unitMinuteMicrosecond: {60 * usPerSec, usPerSec, 1},
	unitSecondMicrosecond: {usPerSec, 1},
}

func (u intervalUnit) compound() bool { return u >= unitYearMonth }

// parseCompoundInterval reads a compound interval string as MySQL does
// (get_interval_value): an optional '-', then digit groups separated by any
// non-digits; missing leading fields are zero ('1:30' DAY_SECOND is one
// minute thirty); a trailing microsecond field is a fraction ('1.5'
// SECOND_MICROSECOND is 1.5 s). Too many fields give ok=false. It returns
// months (YEAR_MONTH) or µs.
func parseCompoundInterval(s string, u intervalUnit) (v int64, ok bool) {
	sizes := compoundFields[u]
	s = trimSpaces(s)
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	i := 0
	for i < len(s) && !isDigit(s[i]) {
		i++
	}
	var vals []int64
	lastLen := 0
	for i < len(s) {
		if len(vals) == len(sizes) {
			return 0, false
		}
		st, x := i, int64(0)
		for ; i < len(s) && isDigit(s[i]); i++ {
			if x > math.MaxInt64/100 {
				return 0, false
			}
			x = x*10 + int64(s[i]-'0')
		}
		vals, lastLen = append(vals, x), i-st
		for i < len(s) && !isDigit(s[i]) {
			i++
		}
	}
	if sizes[len(sizes)-1] == 1 && u != unitYearMonth && lastLen > 0 {
		vals[len(vals)-1] = fracToMicros(vals[len(vals)-1], lastLen)
	}
	off := len(sizes) - len(vals)
	for k, x := range vals {
		hi, lo := bits.Mul64(uint64(x), uint64(sizes[off+k]))
		if hi != 0 || lo > math.MaxInt64-uint64(v) {
			return 0, false
		}
		v += int64(lo)
	}
	return signed(v, neg), true
}

func parseIntervalUnit(s string) (intervalUnit, error) {
	u, ok := intervalUnits[strings.ToUpper(s)]
	if !ok {
		return 0, qerr.New(qerr.Unimplemented, "interval unit %s is not supported", s)
	}
	return u, nil
}

// dateOnly reports whether adding the unit to a DATE keeps a DATE.
func (u intervalUnit) dateOnly() bool {
	return (u >= unitDay && u <= unitYear) || u == unitYearMonth
}

// extractUnit is an EXTRACT unit.
type extractUnit int

const (
	extYear extractUnit = iota
	extQuarter
	extMonth
	extWeek
	extDay
	extHour
	extMinute
	extSecond
	extMicrosecond
	extYearMonth
	extDayHour
	extDayMinute
	extDaySecond
	extDayMicrosecond
	extHourMinute
	extHourSecond
	extHourMicrosecond
	extMinuteSecond
	extMinuteMicrosecond
	extSecondMicrosecond
)

var extractUnits = map[string]extractUnit{
	"YEAR": extYear, "QUARTER": extQuarter, "MONTH": extMonth, "WEEK": extWeek, "DAY": extDay,
	"HOUR": extHour, "MINUTE": extMinute, "SECOND": extSecond, "MICROSECOND": extMicrosecond,
	"YEAR_MONTH": extYearMonth, "DAY_HOUR": extDayHour, "DAY_MINUTE": extDayMinute,
	"DAY_SECOND": extDaySecond, "DAY_MICROSECOND": extDayMicrosecond, "HOUR_MINUTE": extHourMinute,
	"HOUR_SECOND": extHourSecond, "HOUR_MICROSECOND": extHourMicrosecond,
	"MINUTE_SECOND": extMinuteSecond, "MINUTE_MICROSECOND": extMinuteMicrosecond,
	"SECOND_MICROSECOND": extSecondMicrosecond,
}

// compoundParts lists the fields a compound EXTRACT unit concatenates as
// decimal digits (EXTRACT(DAY_MINUTE FROM '2024-03-15 10:20') = 151020).
var compoundParts = map[extractUnit][]extractUnit{
	extYearMonth:         {extYear, extMonth},
	extDayHour:           {extDay, extHour},
	extDayMinute:         {extDay, extHour, extMinute},
	extDaySecond:         {extDay, extHour, extMinute, extSecond},
	extDayMicrosecond:    {extDay, extHour, extMinute, extSecond, extMicrosecond},
	extHourMinute:        {extHour, extMinute},
	extHourSecond:        {extHour, extMinute, extSecond},
	extHourMicrosecond:   {extHour, extMinute, extSecond, extMicrosecond},
	extMinuteSecond:      {extMinute, extSecond},
	extMinuteMicrosecond: {extMinute, extSecond, extMicrosecond},
	extSecondMicrosecond: {extSecond, extMicrosecond},
}

func parseExtractUnit(s string) (extractUnit, error) {
	u, ok := extractUnits[strings.ToUpper(s)]
	if !ok {
		return 0, qerr.New(qerr.Unimplemented, "EXTRACT unit %s is not supported", s)
	}
	return u, nil
}

// strToDateType is STR_TO_DATE's result type for a format: DATE when it has
// only date fields, TIME when only time fields, else DATETIME (MySQL).
func strToDateType(format string) arrow.DataType {
	hasDate, hasTime := false, false
	for i := 0; i+1 < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		switch format[i] {
		case 'Y', 'y', 'm', 'c', 'd', 'e', 'D', 'M', 'b', 'j', 'U', 'u', 'V', 'v', 'W', 'a', 'w', 'X', 'x':
			hasDate = true
		case 'H', 'h', 'I', 'i', 'k', 'l', 's', 'S', 'f', 'p', 'T', 'r':
			hasTime = true
		}
	}
	switch {
	case hasDate && !hasTime:
		return tDate
	case hasTime && !hasDate:
		return tTime
	}
	return tTS
}

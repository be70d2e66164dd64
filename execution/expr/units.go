package expr

import (
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
)

var intervalUnits = map[string]intervalUnit{
	"MICROSECOND": unitMicrosecond, "SECOND": unitSecond, "MINUTE": unitMinute, "HOUR": unitHour,
	"DAY": unitDay, "WEEK": unitWeek, "MONTH": unitMonth, "QUARTER": unitQuarter, "YEAR": unitYear,
}

func parseIntervalUnit(s string) (intervalUnit, error) {
	u, ok := intervalUnits[strings.ToUpper(s)]
	if !ok {
		return 0, qerr.New(qerr.Unimplemented, "interval unit %s is not supported", s)
	}
	return u, nil
}

// dateOnly reports whether adding the unit to a DATE keeps a DATE.
func (u intervalUnit) dateOnly() bool { return u >= unitDay }

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

import Foundation

/// RFC 5322 §3.3 date-time parsing and formatting, including the obsolete forms of §4.3.
enum MailDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let lowerDayNames = dayNames.map { $0.lowercased() }
    private static let monthNames = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// Parses `[day-of-week ","] day month year hour ":" minute [":" second] zone`, leniently: comments, missing
    /// seconds, two- and three-digit years (§4.3), obsolete zone names (UT, GMT, EST… and military letters as -0000).
    static func parse(_ raw: String) -> Date? {
        // UTF-8 bytes: every delimiter is ASCII. Comments such as "(PST)" go first.
        var text: [UInt8] = []
        text.reserveCapacity(raw.utf8.count)
        var depth = 0
        for byte in raw.utf8 {
            if byte == UInt8(ascii: "(") {
                depth += 1
            } else if byte == UInt8(ascii: ")") {
                depth = max(0, depth - 1)
            } else if depth == 0 {
                text.append(byte)
            }
        }
        var tokens = text.split(whereSeparator: {
            $0 == 0x20 || $0 == 0x09 || $0 == UInt8(ascii: ",") || $0 == 0x0D || $0 == 0x0A
        })
        // The day of week, if any.
        if let first = tokens.first, nameIndex(first, in: lowerDayNames) != nil { tokens.removeFirst() }
        guard tokens.count >= 4 else { return nil }
        var day: Int?
        var month: Int?
        var index = 0
        // "13 Feb 1969" or, leniently, "Feb 13 1969".
        if let value = integer(tokens[0]) {
            day = value
            month = nameIndex(tokens[1], in: months).map { $0 + 1 }
        } else {
            month = nameIndex(tokens[0], in: months).map { $0 + 1 }
            day = integer(tokens[1])
        }
        index = 2
        guard let day, let month, (1...31).contains(day), var year = integer(tokens[index]) else { return nil }
        index += 1
        // A token that reads as a number is ASCII: its byte count is its length.
        if tokens[index - 1].count <= 2 {
            year += year < 50 ? 2000 : 1900
        } else if tokens[index - 1].count == 3 {
            year += 1900
        }
        // Keep the arithmetic below far from overflow whatever the bytes say.
        guard (1...9999).contains(year), index < tokens.count else { return nil }
        let timeParts = tokens[index].split(separator: UInt8(ascii: ":")).map(integer)
        index += 1
        guard timeParts.count >= 2, let hour = timeParts[0], let minute = timeParts[1], (0...23).contains(hour),
            (0...59).contains(minute)
        else { return nil }
        let second = timeParts.count > 2 ? (timeParts[2] ?? 0) : 0
        var offset = 0
        if index < tokens.count {
            offset = zoneOffset(tokens[index]) ?? 0
        }
        let daysSinceEpoch = daysFromCivil(year: year, month: month, day: day)
        let seconds = daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + min(second, 60) - offset
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// The position in `names` (three lower-case ASCII letters each) of the token's first three characters,
    /// lower-cased, or nil.
    private static func nameIndex(_ token: ArraySlice<UInt8>, in names: [String]) -> Int? {
        guard token.count >= 3 else { return nil }
        let key: String
        if token.count > 3 && token[token.startIndex + 3] >= 0x80 || token.prefix(3).contains(where: { $0 >= 0x80 }) {
            // A non-ASCII scalar may join the third character or lower-case to a letter: ask String.
            key = String(String(decoding: token, as: UTF8.self).lowercased().prefix(3))
        } else {
            key = String(decoding: token.prefix(3).map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
        }
        return names.firstIndex(of: key)
    }

    /// The token as `Int(_:)` reads it: an optional sign and ASCII digits, nil on anything else or on overflow.
    private static func integer(_ token: ArraySlice<UInt8>) -> Int? {
        var digits = token
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value = 0
        for byte in digits {
            guard (0x30...0x39).contains(byte) else { return nil }
            let digit = Int(byte - 0x30)
            let (shifted, overflowShift) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowAdd) =
                negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            if overflowShift || overflowAdd { return nil }
            value = next
        }
        return value
    }

    /// The zone offset in seconds east of UTC, or nil when unknown (treated as -0000, §4.3).
    private static func zoneOffset(_ zone: ArraySlice<UInt8>) -> Int? {
        let isASCII = !zone.contains { $0 >= 0x80 }
        if let sign = zone.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            let digits: String
            if isASCII {
                digits = String(decoding: zone.dropFirst().filter { (0x30...0x39).contains($0) }, as: UTF8.self)
            } else {
                // Other scripts' digits count as numbers and then fail to read, as they should.
                digits = String(decoding: zone.dropFirst(), as: UTF8.self).filter(\.isNumber)
            }
            guard digits.count == 4, let value = Int(digits) else { return nil }
            let seconds = (value / 100) * 3600 + (value % 100) * 60
            return sign == UInt8(ascii: "-") ? -seconds : seconds
        }
        let name =
            isASCII
            ? String(decoding: zone.map { (0x61...0x7A).contains($0) ? $0 & 0xDF : $0 }, as: UTF8.self)
            : String(decoding: zone, as: UTF8.self).uppercased()
        switch name {
        case "UT", "UTC", "GMT", "Z": return 0
        case "EST": return -5 * 3600
        case "EDT": return -4 * 3600
        case "CST": return -6 * 3600
        case "CDT": return -5 * 3600
        case "MST": return -7 * 3600
        case "MDT": return -6 * 3600
        case "PST": return -8 * 3600
        case "PDT": return -7 * 3600
        case "JST": return 9 * 3600
        case "CET": return 3600
        case "CEST": return 7200
        default: return nil
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Formats a date as RFC 5322 §3.3 date-time in UTC: "Sat, 21 Nov 2026 12:38:44 +0000".
    static func format(_ date: Date) -> String {
        // Clamp to years 1–9999 so that a non-finite or absurd date cannot trap the conversion.
        let seconds = date.timeIntervalSince1970
        let clamped = seconds.isFinite ? min(max(seconds, -62_135_596_800), 253_402_300_799) : 0
        let total = Int(clamped.rounded(.down))
        var days = total / 86_400
        var secondsOfDay = total % 86_400
        if secondsOfDay < 0 {
            secondsOfDay += 86_400
            days -= 1
        }
        // Civil from days (inverse of daysFromCivil).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPosition = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPosition + 2) / 5 + 1
        let month = monthPosition < 10 ? monthPosition + 3 : monthPosition - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let weekday = ((days % 7) + 7 + 4) % 7  // 1970-01-01 was a Thursday.
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(dayNames[weekday]), \(day) \(monthNames[month - 1]) \(year) \(two(secondsOfDay / 3600)):\(two(secondsOfDay % 3600 / 60)):\(two(secondsOfDay % 60)) +0000"
    }
}

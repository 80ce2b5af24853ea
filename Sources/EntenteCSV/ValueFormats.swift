import EntenteCore

/// The date formats a mapping may name (`date_format`).
///
/// On import, ISO `YYYY-MM-DD` is always accepted too,
/// and one- or two-digit days and months are accepted whichever form is named; on export, dates are written
/// in the named form.
enum DateFormat: String, CaseIterable, Sendable {
    case iso = "YYYY-MM-DD"
    case monthDayYear = "M/D/YYYY"
    case monthDayYearPadded = "MM/DD/YYYY"
    case dayMonthYear = "D/M/YYYY"
    case dayMonthYearPadded = "DD/MM/YYYY"
    case dayMonthYearDots = "D.M.YYYY"
    case dayMonthYearDotsPadded = "DD.MM.YYYY"

    /// What is accepted when a column names no format.
    static let defaultAccepted: [DateFormat] = [.iso, .monthDayYear]

    private var separator: UInt8 {
        switch self {
        case .iso: UInt8(ascii: "-")
        case .monthDayYear, .monthDayYearPadded, .dayMonthYear, .dayMonthYearPadded: UInt8(ascii: "/")
        case .dayMonthYearDots, .dayMonthYearDotsPadded: UInt8(ascii: ".")
        }
    }

    /// Reads a date written in this format.
    func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> CalendarDate? {
        var numbers = (0, 0, 0)
        var lengths = (0, 0, 0)
        var part = 0
        for byte in bytes {
            if byte == separator {
                part += 1
                guard part < 3 else { return nil }
            } else if Lenient.isDigit(byte) {
                let digit = Int(byte - 48)
                switch part {
                case 0: (numbers.0, lengths.0) = (numbers.0 * 10 + digit, lengths.0 + 1)
                case 1: (numbers.1, lengths.1) = (numbers.1 * 10 + digit, lengths.1 + 1)
                default: (numbers.2, lengths.2) = (numbers.2 * 10 + digit, lengths.2 + 1)
                }
                guard lengths.0 <= 4, lengths.1 <= 4, lengths.2 <= 4 else { return nil }
            } else {
                return nil
            }
        }
        guard part == 2, lengths.0 > 0, lengths.1 > 0, lengths.2 > 0 else { return nil }
        let lengthList = [lengths.0, lengths.1, lengths.2]
        let numberList = [numbers.0, numbers.1, numbers.2]
        return make(lengths: lengthList, numbers: numberList)
    }

    private func make(lengths: [Int], numbers: [Int]) -> CalendarDate? {
        let (year, month, day): (Int, Int, Int)
        switch self {
        case .iso:
            guard lengths[0] == 4, lengths[1] <= 2, lengths[2] <= 2 else { return nil }
            (year, month, day) = (numbers[0], numbers[1], numbers[2])
        case .monthDayYear, .monthDayYearPadded:
            guard lengths[0] <= 2, lengths[1] <= 2, lengths[2] == 4 else { return nil }
            (year, month, day) = (numbers[2], numbers[0], numbers[1])
        case .dayMonthYear, .dayMonthYearPadded, .dayMonthYearDots, .dayMonthYearDotsPadded:
            guard lengths[0] <= 2, lengths[1] <= 2, lengths[2] == 4 else { return nil }
            (year, month, day) = (numbers[2], numbers[1], numbers[0])
        }
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        return CalendarDate(year: Int32(year), month: UInt8(month), day: UInt8(day))
    }

    /// Writes a date in this format.
    func render(_ date: CalendarDate) -> String {
        let year = String(repeating: "0", count: max(0, 4 - String(date.year).count)) + String(date.year)
        func two(_ value: UInt8) -> String { value < 10 ? "0\(value)" : "\(value)" }
        switch self {
        case .iso: return date.description
        case .monthDayYear: return "\(date.month)/\(date.day)/\(year)"
        case .monthDayYearPadded: return "\(two(date.month))/\(two(date.day))/\(year)"
        case .dayMonthYear: return "\(date.day)/\(date.month)/\(year)"
        case .dayMonthYearPadded: return "\(two(date.day))/\(two(date.month))/\(year)"
        case .dayMonthYearDots: return "\(date.day).\(date.month).\(year)"
        case .dayMonthYearDotsPadded: return "\(two(date.day)).\(two(date.month)).\(year)"
        }
    }
}

/// The number formats a mapping may name (`number_format`): the grouping and decimal separators.
enum NumberFormat: String, CaseIterable, Sendable {
    case standard = "1,234.56"
    case european = "1.234,56"
    case spaced = "1 234,56"

    var group: UInt8 {
        switch self {
        case .standard: UInt8(ascii: ",")
        case .european: UInt8(ascii: ".")
        case .spaced: UInt8(ascii: " ")
        }
    }

    var decimal: UInt8 { self == .standard ? UInt8(ascii: ".") : UInt8(ascii: ",") }

    /// Writes a decimal with this format's decimal separator and no grouping.
    func render(_ number: DecimalNumber, minimumFractionDigits: Int = 0) -> String {
        let text = number.formatted(minimumFractionDigits: minimumFractionDigits)
        return self == .standard ? text : String(text.map { $0 == "." ? "," : $0 })
    }
}

/// What an empty cell does (`empty_cells`).
enum EmptyCells: String, CaseIterable, Sendable {
    /// The field is left as is.
    case skip
    /// The field is cleared (a set is emptied).
    case unset
}

/// The lenient readers of CRM cell text.
///
/// Each returns a canonical value or a sentence naming the expected form.
enum Lenient {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// Trims spaces, tabs and no-break spaces.
    static func trim(_ text: String) -> Substring {
        // Fast path: no space-like first or last byte (a no-break space starts with 0xC2 or 0xE2).
        let mayStart: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0xC2 || $0 == 0xE2 }
        let mayEnd: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0xA0 || $0 == 0xAF }
        guard let first = text.utf8.first, let last = text.utf8.last else { return text[...] }
        if !mayStart(first) && !mayEnd(last) { return text[...] }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\u{A0}" || $0 == "\u{202F}" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return text[first...last]
    }

    // MARK: Dates and times

    static func date(_ text: String, formats: [DateFormat]) -> CalendarDate? {
        let bytes = trim(text).utf8
        for format in formats {
            if let date = format.parse(bytes) { return date }
        }
        return nil
    }

    /// Reads `<date>[T| ]H:MM[:SS[.fff]][ AM|PM][Z|UTC|GMT|±HH[:MM]]` (UTC unless an offset is given), or a
    /// date alone (midnight UTC).
    static func timestamp(_ text: String, formats: [DateFormat]) -> Int64? {
        let bytes = Array(trim(text).utf8)
        let split = bytes.firstIndex { $0 == UInt8(ascii: "T") || $0 == UInt8(ascii: " ") } ?? bytes.count
        var date: CalendarDate?
        for format in formats where date == nil { date = format.parse(bytes[..<split]) }
        guard let date else { return nil }
        let days = date.daysSinceEpoch
        if split == bytes.count { return days * 86_400_000 }
        var scanner = ByteScanner(bytes: bytes, index: split + 1)
        guard let time = scanner.time(), scanner.atEnd else { return nil }
        return days * 86_400_000 + time
    }

    // MARK: Numbers

    /// Reads `-1,234.56` in `format` (grouping optional, but every group after the first has three digits).
    static func number(_ text: Substring, format: NumberFormat) -> DecimalNumber? {
        var value: Int64 = 0
        var negative = false
        var digits = 0
        var fractionDigits = 0
        var inFraction = false
        var groups = 0
        var groupLength = 0
        var position = 0
        for byte in text.utf8 {
            defer { position += 1 }
            if isDigit(byte) {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(Int64(byte - 48))
                guard !overflow1, !overflow2 else { return nil }
                value = plus
                digits += 1
                if inFraction { fractionDigits += 1 } else { groupLength += 1 }
            } else if position == 0 && (byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")) {
                negative = byte == UInt8(ascii: "-")
            } else if byte == format.decimal && !inFraction {
                inFraction = true
            } else if byte == format.group && !inFraction {
                if groups == 0 {
                    guard (1...3).contains(groupLength) else { return nil }
                } else {
                    guard groupLength == 3 else { return nil }
                }
                groups += 1
                groupLength = 0
            } else {
                return nil
            }
        }
        guard digits > 0, !inFraction || fractionDigits > 0, groups == 0 || groupLength == 3 else { return nil }
        guard fractionDigits <= Int(DecimalNumber.maxScale) else { return nil }
        return DecimalNumber(significand: negative ? -value : value, scale: UInt8(fractionDigits))
    }

    /// Reads a decimal, allowing a percent sign (`25%` is 0.25).
    static func decimal(_ text: String, format: NumberFormat) -> DecimalNumber? {
        var body = trim(text)
        let percent = body.hasSuffix("%")
        if percent { body = trimSubstring(body.dropLast()) }
        guard let number = number(normalizeSpaces(body, format), format: format) else { return nil }
        guard percent else { return number }
        return DecimalNumber(significand: number.significand, scale: number.scale + 2)
    }

    /// Reads a whole number, allowing grouping, a percent sign (`25%` is 25) and zero decimals (`25.00`).
    static func integer(_ text: String, format: NumberFormat) -> Int64? {
        if text.utf8.count <= 18, text.utf8.allSatisfy(isDigit), let value = Int64(text) { return value }
        var body = trim(text)
        if body.hasSuffix("%") { body = trimSubstring(body.dropLast()) }
        guard let number = number(normalizeSpaces(body, format), format: format), number.scale == 0 else {
            return nil
        }
        return number.significand
    }

    /// An amount read from a cell, with the currency the cell names, if any.
    struct Amount {
        var amount: DecimalNumber
        var code: CurrencyCode?
        var symbol: Character?
    }

    static let symbols: [Character: [String]] = ["$": [], "€": ["EUR"], "£": ["GBP"], "¥": ["JPY", "CNY"]]

    /// Reads `1200000`, `1,200,000.00`, `$1,200,000.00`, `-$5.00`, `1200000.5 USD`, `USD 1200000.5`, `(1,000.00)`.
    static func amount(_ text: String, format: NumberFormat) -> Amount? {
        if text.utf8.allSatisfy({ isDigit($0) || $0 == format.group || $0 == format.decimal }) {
            return number(text[...], format: format).map { Amount(amount: $0, code: nil, symbol: nil) }
        }
        var body = trim(text)
        var negative = false
        if body.hasPrefix("(") && body.hasSuffix(")") {
            negative = true
            body = trimSubstring(body.dropFirst().dropLast())
        }
        var code: CurrencyCode?
        let tokens = body.split(separator: " ", omittingEmptySubsequences: true)
        if tokens.count >= 2, let last = tokens.last, last.count == 3, last.allSatisfy(\.isLetter),
            let parsed = CurrencyCode(String(last))
        {
            code = parsed
            body = trimSubstring(body[..<last.startIndex])
        } else if tokens.count >= 2, let first = tokens.first, first.count == 3, first.allSatisfy(\.isLetter),
            let parsed = CurrencyCode(String(first))
        {
            code = parsed
            body = trimSubstring(body[first.endIndex...])
        }
        var sign: Substring = ""
        if body.hasPrefix("-") || body.hasPrefix("+") {
            sign = body.prefix(1)
            body = body.dropFirst()
        }
        var symbol: Character?
        if let first = body.first, symbols[first] != nil {
            symbol = first
            body = trimSubstring(body.dropFirst())
        } else if let last = body.last, symbols[last] != nil {
            symbol = last
            body = trimSubstring(body.dropLast())
        }
        if negative && (!sign.isEmpty || body.hasPrefix("-") || body.hasPrefix("+")) { return nil }
        guard var number = number(normalizeSpaces(sign + body, format), format: format) else { return nil }
        if negative {
            guard let negated = DecimalNumber(significand: -number.significand, scale: number.scale) else {
                return nil
            }
            number = negated
        }
        return Amount(amount: number, code: code, symbol: symbol)
    }

    /// Reads true/false, yes/no, y/n, t/f, 1/0, x (true), in any case.
    static func boolean(_ text: String) -> Bool? {
        switch trim(text).lowercased() {
        case "true", "yes", "y", "t", "1", "x", "on": true
        case "false", "no", "n", "f", "0", "off": false
        default: nil
        }
    }

    private static func trimSubstring(_ text: Substring) -> Substring {
        trim(String(text))
    }

    /// For the `1 234,56` format, no-break spaces used as grouping become plain spaces.
    private static func normalizeSpaces(_ text: Substring, _ format: NumberFormat) -> Substring {
        guard format == .spaced, text.utf8.contains(where: { $0 >= 0x80 }) else { return text }
        return Substring(String(text.map { $0 == "\u{A0}" || $0 == "\u{202F}" ? " " : $0 }))
    }
}

/// A cursor over the time part of a timestamp.
private struct ByteScanner {
    let bytes: [UInt8]
    var index: Int

    var atEnd: Bool { index >= bytes.count }

    mutating func digits(_ range: ClosedRange<Int>) -> Int? {
        var value = 0
        var count = 0
        while index < bytes.count, Lenient.isDigit(bytes[index]), count < range.upperBound {
            value = value * 10 + Int(bytes[index] - 48)
            index += 1
            count += 1
        }
        return range.contains(count) ? value : nil
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == 0x20 { index += 1 }
    }

    mutating func word(_ text: String) -> Bool {
        let word = Array(text.utf8)
        guard index + word.count <= bytes.count else { return false }
        for (offset, byte) in word.enumerated() where bytes[index + offset] | 0x20 != byte { return false }
        index += word.count
        return true
    }

    /// `H:MM[:SS[.fff]][ AM|PM][Z|UTC|GMT|±HH[:MM]]` as milliseconds since midnight UTC (may be negative or
    /// over a day once the offset is applied).
    mutating func time() -> Int64? {
        guard var hour = digits(1...2), skip(UInt8(ascii: ":")), let minute = digits(2...2), minute < 60 else {
            return nil
        }
        var second = 0
        var millis = 0
        if skip(UInt8(ascii: ":")) {
            guard let value = digits(2...2), value < 60 else { return nil }
            second = value
            if skip(UInt8(ascii: ".")) || skip(UInt8(ascii: ",")) {
                let start = index
                guard let fraction = digits(1...9) else { return nil }
                let length = index - start
                millis = length >= 3 ? fraction / Int(pow10(length - 3)) : fraction * Int(pow10(3 - length))
            }
        }
        skipSpaces()
        if word("am") || word("pm") {
            let pm = bytes[index - 2] | 0x20 == UInt8(ascii: "p")
            guard (1...12).contains(hour) else { return nil }
            hour = hour % 12 + (pm ? 12 : 0)
        }
        guard hour < 24 else { return nil }
        skipSpaces()
        var offset = 0
        if skip(UInt8(ascii: "Z")) || skip(UInt8(ascii: "z")) || word("utc") || word("gmt") {
            offset = 0
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let negative = bytes[index] == UInt8(ascii: "-")
            index += 1
            guard let hours = digits(2...2), hours <= 14 else { return nil }
            var minutes = 0
            let colon = skip(UInt8(ascii: ":"))
            if colon || (index < bytes.count && Lenient.isDigit(bytes[index])) {
                guard let value = digits(2...2), value < 60 else { return nil }
                minutes = value
            }
            offset = (hours * 60 + minutes) * (negative ? -1 : 1)
        }
        let local = Int64(((hour * 60 + minute) * 60 + second) * 1000 + millis)
        return local - Int64(offset) * 60_000
    }

    private func pow10(_ exponent: Int) -> Int64 {
        var value: Int64 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }
}

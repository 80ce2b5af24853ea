/// A field value. `null` (unset or deleted) is distinct from the empty string.
public enum Value: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// No value: never set, or deleted.
    case null
    /// UTF-8 text.
    case string(String)
    /// A signed 64-bit integer.
    case integer(Int64)
    /// A boolean.
    case boolean(Bool)
    /// An exact decimal number.
    case decimal(DecimalNumber)
    /// An exact amount in a currency.
    case money(Money)
    /// A calendar date (no time zone).
    case date(CalendarDate)
    /// An instant: milliseconds since 1970-01-01T00:00:00Z.
    case timestamp(Int64)
    /// One value of a declared set (the allowed values belong to the field's definition, not the value).
    case enumeration(String)
    /// Another object.
    case reference(ObjectID)

    /// The kind's wire tag (`Specs/envelope.md`), also the first tie-break key.
    public var kindTag: UInt8 {
        switch self {
        case .null: 0
        case .string: 1
        case .integer: 2
        case .boolean: 3
        case .decimal: 4
        case .money: 5
        case .date: 6
        case .timestamp: 7
        case .enumeration: 8
        case .reference: 9
        }
    }

    /// The kind's name as users type it (`string`, `money`, ...).
    public var kindName: String {
        switch self {
        case .null: "null"
        case .string: "string"
        case .integer: "integer"
        case .boolean: "boolean"
        case .decimal: "decimal"
        case .money: "money"
        case .date: "date"
        case .timestamp: "timestamp"
        case .enumeration: "enum"
        case .reference: "ref"
        }
    }

    /// A deterministic total order (kind, then payload), used only to break ties between equal timestamps.
    public static func < (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.string(let left), .string(let right)), (.enumeration(let left), .enumeration(let right)):
            return left.utf8.lexicographicallyPrecedes(right.utf8)
        case (.integer(let left), .integer(let right)), (.timestamp(let left), .timestamp(let right)):
            return left < right
        case (.boolean(let left), .boolean(let right)): return !left && right
        case (.decimal(let left), .decimal(let right)): return left < right
        case (.money(let left), .money(let right)):
            return (left.currency.code, left.amount) < (right.currency.code, right.amount)
        case (.date(let left), .date(let right)): return left < right
        case (.reference(let left), .reference(let right)): return left < right
        default: return lhs.kindTag < rhs.kindTag
        }
    }

    /// The value as a user would type it; `null` prints as `(unset)`.
    public var description: String {
        switch self {
        case .null: "(unset)"
        case .string(let text), .enumeration(let text): text
        case .integer(let number): String(number)
        case .boolean(let flag): flag ? "true" : "false"
        case .decimal(let number): number.description
        case .money(let money): money.description
        case .date(let date): date.description
        case .timestamp(let milliseconds): CalendarDate.iso8601(milliseconds: milliseconds)
        case .reference(let object): "ref:\(object.hex)"
        }
    }
}

/// An exact decimal: `significand × 10^-scale`, normalised so equal numbers have equal representations.
public struct DecimalNumber: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The digits as an integer.
    public let significand: Int64
    /// How many of those digits are after the decimal point (0...18).
    public let scale: UInt8

    /// The largest scale accepted.
    public static let maxScale: UInt8 = 18

    /// Creates a normalised decimal (trailing fractional zeros removed), or nil if `scale` is over 18.
    public init?(significand: Int64, scale: UInt8) {
        guard scale <= Self.maxScale else { return nil }
        var digits = significand
        var places = scale
        while places > 0, digits % 10 == 0 {
            digits /= 10
            places -= 1
        }
        self.significand = digits
        self.scale = places
    }

    /// Parses `-?digits(.digits)?` exactly (no exponent, no grouping); nil if it does not fit 64 bits.
    public init?(_ text: String) {
        var body = Substring(text)
        let negative = body.first == "-"
        if negative || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty || parts.count == 2 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard parts.count == 1 || !fraction.isEmpty else { return nil }
        guard (whole + fraction).allSatisfy({ $0.isASCII && $0.isNumber }), fraction.count <= Int(Self.maxScale) else {
            return nil
        }
        var value: Int64 = 0
        for digit in (whole + fraction).utf8 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (plus, overflow2) = times.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = plus
        }
        self.init(significand: negative ? -value : value, scale: UInt8(fraction.count))
    }

    /// Compares exactly (no floating point).
    public static func < (lhs: DecimalNumber, rhs: DecimalNumber) -> Bool {
        let scale = max(lhs.scale, rhs.scale)
        let (left, leftOverflow) = lhs.scaled(to: scale)
        let (right, rightOverflow) = rhs.scaled(to: scale)
        if !leftOverflow && !rightOverflow { return left < right }
        if (lhs.significand < 0) != (rhs.significand < 0) { return lhs.significand < 0 }
        return leftOverflow ? lhs.significand < 0 : rhs.significand > 0
    }

    /// The significand at a larger scale, and whether that overflowed.
    public func scaled(to target: UInt8) -> (Int64, Bool) {
        var value = significand
        for _ in Int(scale)..<Int(max(target, scale)) {
            let (next, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return (value, true) }
            value = next
        }
        return (value, false)
    }

    /// The exact sum, or nil if it does not fit 64 bits at the larger scale.
    public func adding(_ other: DecimalNumber) -> DecimalNumber? {
        let scale = max(self.scale, other.scale)
        let (left, leftOverflow) = scaled(to: scale)
        let (right, rightOverflow) = other.scaled(to: scale)
        let (sum, overflow) = left.addingReportingOverflow(right)
        guard !leftOverflow, !rightOverflow, !overflow else { return nil }
        return DecimalNumber(significand: sum, scale: scale)
    }

    /// Plain decimal notation, at least `minimumFractionDigits` after the point (computed on digits, so it
    /// never overflows).
    public func formatted(minimumFractionDigits: Int = 0) -> String {
        var digits = String(significand.magnitude)
        let places = Int(scale)
        if places > 0 && digits.count <= places {
            digits = String(repeating: "0", count: places - digits.count + 1) + digits
        }
        var whole = places > 0 ? String(digits.dropLast(places)) : digits
        var fraction = places > 0 ? String(digits.suffix(places)) : ""
        if fraction.count < minimumFractionDigits {
            fraction += String(repeating: "0", count: minimumFractionDigits - fraction.count)
        }
        if whole.isEmpty { whole = "0" }
        return (significand < 0 ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// Plain decimal notation.
    public var description: String { formatted() }
}

/// A three-letter ISO 4217 currency code, upper case.
public struct CurrencyCode: Hashable, Sendable, CustomStringConvertible {
    /// The code, for example `USD`.
    public let code: String

    /// Accepts exactly three ASCII letters (normalised to upper case).
    public init?(_ code: String) {
        // Byte checks: this runs for every money value decoded, and Character iteration is slow.
        func isUpper(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) }
        guard code.utf8.count == 3, code.utf8.allSatisfy({ isUpper($0) || (0x61...0x7A).contains($0) }) else {
            return nil
        }
        self.code = code.utf8.allSatisfy(isUpper) ? code : code.uppercased()
    }

    /// The code.
    public var description: String { code }
}

/// An exact amount of money: never floating point.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    /// The amount.
    public let amount: DecimalNumber
    /// The currency.
    public let currency: CurrencyCode

    /// Creates an amount.
    public init(amount: DecimalNumber, currency: CurrencyCode) {
        self.amount = amount
        self.currency = currency
    }

    /// Parses `1250000.00 USD` or `USD 1250000.00`.
    public init?(_ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        if let currency = CurrencyCode(String(parts[1])), let amount = DecimalNumber(String(parts[0])) {
            self.init(amount: amount, currency: currency)
        } else if let currency = CurrencyCode(String(parts[0])), let amount = DecimalNumber(String(parts[1])) {
            self.init(amount: amount, currency: currency)
        } else {
            return nil
        }
    }

    /// `1250000.00 USD` (at least two decimals).
    public var description: String { "\(amount.formatted(minimumFractionDigits: 2)) \(currency.code)" }
}

/// A proleptic Gregorian calendar date, validated (no 31 April, 29 February only in leap years).
public struct CalendarDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The year (1...9999).
    public let year: Int32
    /// The month (1...12).
    public let month: UInt8
    /// The day of the month.
    public let day: UInt8

    /// Creates a date, or nil if it does not exist.
    public init?(year: Int32, month: UInt8, day: UInt8) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= Self.daysInMonth(year: year, month: month)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { (48...57).contains($0) } }),
            let year = Int32(parts[0]), let month = UInt8(parts[1]), let day = UInt8(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    static func daysInMonth(year: Int32, month: UInt8) -> UInt8 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Orders by year, month, day.
    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// `YYYY-MM-DD`.
    public var description: String {
        func two(_ value: UInt8) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(year)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(month) + "-" + two(day)
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    public var daysSinceEpoch: Int64 {
        let y = Int64(year) - (month <= 2 ? 1 : 0)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 1970-01-01.
    public static let unixEpoch = CalendarDate(checkedYear: 1970, month: 1, day: 1)

    private init(checkedYear year: Int32, month: UInt8, day: UInt8) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date `days` after 1970-01-01, or nil outside years 1...9999.
    public init?(daysSinceEpoch days: Int64) {
        guard (-719_162...2_932_896).contains(days) else { return nil }
        let civil = Self.fromDaysSinceEpoch(days)
        self.init(year: Int32(civil.year), month: UInt8(civil.month), day: UInt8(civil.day))
    }

    /// The date of a day count since 1970-01-01 (`civil_from_days`).
    public static func fromDaysSinceEpoch(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since the epoch.
    public static func iso8601(milliseconds: Int64) -> String {
        // Floor division without overflow, even for Int64.min.
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : -((-(milliseconds + 1)) / 86_400_000) - 1
        let rest = (milliseconds % 86_400_000 + 86_400_000) % 86_400_000
        let civil = fromDaysSinceEpoch(days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let time = "\(pad(rest / 3_600_000, 2)):\(pad(rest / 60_000 % 60, 2)):\(pad(rest / 1000 % 60, 2))"
        let millis = rest % 1000 == 0 ? "" : "." + pad(rest % 1000, 3)
        return "\(pad(civil.year, 4))-\(pad(civil.month, 2))-\(pad(civil.day, 2))T\(time)\(millis)Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS[.mmm]]Z` (UTC only) into milliseconds since the epoch.
    public static func parseISO8601(_ text: String) -> Int64? {
        guard text.hasSuffix("Z"), let t = text.firstIndex(of: "T"),
            let date = CalendarDate(String(text[..<t]))
        else { return nil }
        let clock = text[text.index(after: t)..<text.index(before: text.endIndex)]
        guard clock.utf8.allSatisfy({ (48...58).contains($0) || $0 == UInt8(ascii: ".") }) else { return nil }
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let hour = Int64(parts[0]), let minute = Int64(parts[1]),
            parts[0].count == 2, parts[1].count == 2, (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        var milliseconds: Int64 = 0
        if parts.count == 3 {
            let seconds = parts[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            guard let whole = Int64(seconds[0]), seconds[0].count == 2, (0..<60).contains(whole) else { return nil }
            milliseconds = whole * 1000
            if seconds.count == 2 {
                guard seconds[1].count == 3, let fraction = Int64(seconds[1]) else { return nil }
                milliseconds += fraction
            }
        }
        return date.daysSinceEpoch * 86_400_000 + hour * 3_600_000 + minute * 60_000 + milliseconds
    }
}

public import EntenteCore

/// An exact decimal with a 128-bit significand: `significand × 10^-scale`, normalised so that equal numbers
/// have equal representations.
///
/// Reports sum many ``EntenteCore/DecimalNumber`` amounts (64-bit) and multiply them by exchange rates, so
/// their results need more room than one amount. Arithmetic on this type is checked: an overflow is reported,
/// never wrapped.
public struct ExactDecimal: Hashable, Sendable, Comparable, CustomStringConvertible {
    // The significand is stored as two 64-bit words rather than an `Int128` property: Swift 6.3.1 on x86-64
    // Linux copies an `Optional` of a struct holding an `Int128` with an aligned SSE move from a slot that is
    // only 8-byte aligned, which crashes (SIGSEGV). Words keep the struct 8-byte aligned. For the same reason
    // this module never wraps `Int128`/`UInt128` in an `Optional`: helpers return an overflow flag instead.
    private let high: Int64
    private let low: UInt64

    /// How many of the digits are after the decimal point (0...38).
    public let scale: UInt8

    /// The digits as an integer.
    public var significand: Int128 { Int128(high) << 64 | Int128(low) }

    /// The largest scale accepted.
    public static let maxScale: UInt8 = 38

    /// Zero.
    public static let zero = ExactDecimal(normalising: 0, scale: 0)

    /// Creates a normalised decimal (trailing fractional zeros removed), or nil if `scale` is over 38.
    public init?(significand: Int128, scale: UInt8) {
        guard scale <= Self.maxScale else { return nil }
        self.init(normalising: significand, scale: scale)
    }

    /// The exact value of a 64-bit decimal.
    public init(_ number: DecimalNumber) {
        self.init(normalising: Int128(number.significand), scale: number.scale)
    }

    /// An integer.
    public init(_ integer: Int) {
        self.init(normalising: Int128(integer), scale: 0)
    }

    init(normalising significand: Int128, scale: UInt8) {
        precondition(scale <= Self.maxScale, "scale over 38")
        var digits = significand
        var places = scale
        while places > 0, digits % 10 == 0 {
            digits /= 10
            places -= 1
        }
        self.high = Int64(truncatingIfNeeded: digits >> 64)
        self.low = UInt64(truncatingIfNeeded: digits)
        self.scale = places
    }

    /// Whether the number is below zero.
    public var isNegative: Bool { significand < 0 }

    /// Plain decimal notation with at least `minimumFractionDigits` after the point, and the whole part's
    /// digits grouped by three with `groupingSeparator` when one is given (`1,250,000.00`).
    public func formatted(minimumFractionDigits: Int = 0, groupingSeparator: String? = nil) -> String {
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
        if let separator = groupingSeparator, whole.count > 3 {
            var grouped: [String] = []
            var rest = Substring(whole)
            while rest.count > 3 {
                grouped.insert(String(rest.suffix(3)), at: 0)
                rest = rest.dropLast(3)
            }
            grouped.insert(String(rest), at: 0)
            whole = grouped.joined(separator: separator)
        }
        return (significand < 0 ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// Plain decimal notation.
    public var description: String { formatted() }

    /// The number rounded to `places` fractional digits, half away from zero.
    ///
    /// `2.345` → `2.35`, `-2.345` → `-2.35`. Numbers with no more digits than that are returned unchanged.
    public func rounded(places: UInt8) -> ExactDecimal {
        guard scale > places else { return self }
        let divisor = Self.powerOfTen(Int(scale - places))
        let magnitude = Self.roundedDivision(significand.magnitude, by: divisor)
        return ExactDecimal(normalising: significand < 0 ? -Int128(magnitude) : Int128(magnitude), scale: places)
    }

    /// Compares exactly.
    public static func < (lhs: ExactDecimal, rhs: ExactDecimal) -> Bool {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        let left = Self.widened(lhs, to: max(lhs.scale, rhs.scale))
        let right = Self.widened(rhs, to: max(lhs.scale, rhs.scale))
        let leftIsLess = left.high < right.high || (left.high == right.high && left.low < right.low)
        let equal = left == right
        return lhs.isNegative ? !leftIsLess && !equal : leftIsLess
    }
}

// MARK: - Checked arithmetic (internal)

extension ExactDecimal {
    /// The exact sum, or nil if it does not fit 128 bits.
    func adding(_ other: ExactDecimal) -> ExactDecimal? {
        let target = max(scale, other.scale)
        let left = significand(at: target)
        let right = other.significand(at: target)
        guard !left.overflow, !right.overflow else { return nil }
        let (sum, overflow) = left.value.addingReportingOverflow(right.value)
        return overflow ? nil : ExactDecimal(normalising: sum, scale: target)
    }

    /// The exact product of two 64-bit decimals (it always fits: 63 + 63 bits, scale at most 36).
    static func product(_ left: DecimalNumber, _ right: DecimalNumber) -> ExactDecimal {
        ExactDecimal(
            normalising: Int128(left.significand) * Int128(right.significand),
            scale: left.scale + right.scale
        )
    }

    /// `numerator × multiplier / divisor` rounded half away from zero to `places` fractional digits, computed
    /// exactly through a 256-bit intermediate; nil if `divisor` is zero or a factor or the result does not fit.
    static func quotient(
        _ numerator: ExactDecimal,
        times multiplier: UInt128,
        dividedBy divisor: UInt128,
        places: UInt8
    ) -> ExactDecimal? {
        guard divisor > 0, places <= maxScale else { return nil }
        // value × 10^places = significand × multiplier × 10^(places - scale) / divisor
        var factor = multiplier
        var denominator = divisor
        if places >= numerator.scale {
            let (scaled, overflow) = factor.multipliedReportingOverflow(by: powerOfTen(Int(places - numerator.scale)))
            guard !overflow else { return nil }
            factor = scaled
        } else {
            let power = powerOfTen(Int(numerator.scale - places))
            let (scaled, overflow) = denominator.multipliedReportingOverflow(by: power)
            guard !overflow else { return nil }
            denominator = scaled
        }
        let result = mulDivRounded(numerator.significand.magnitude, factor, denominator)
        guard !result.overflow, result.value <= UInt128(Int128.max) else { return nil }
        return ExactDecimal(
            normalising: numerator.isNegative ? -Int128(result.value) : Int128(result.value),
            scale: places
        )
    }

    /// The significand at a larger scale, and whether that overflowed.
    func significand(at target: UInt8) -> (value: Int128, overflow: Bool) {
        guard target >= scale, target <= Self.maxScale else { return (0, true) }
        let power = Self.powerOfTen(Int(target - scale))
        guard power <= UInt128(Int128.max) else { return (0, significand != 0) }
        let (value, overflow) = significand.multipliedReportingOverflow(by: Int128(power))
        return (value, overflow)
    }

    /// 10^exponent for 0...38 (10^38 is the largest power of ten that fits `UInt128`).
    static func powerOfTen(_ exponent: Int) -> UInt128 {
        precondition((0...38).contains(exponent), "10^\(exponent) does not fit 128 bits")
        var value: UInt128 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// `value / divisor` rounded half away from zero (`divisor` > 0).
    static func roundedDivision(_ value: UInt128, by divisor: UInt128) -> UInt128 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        // 2 × remainder ≥ divisor, written without overflow.
        return remainder >= divisor - remainder ? quotient + 1 : quotient
    }

    /// `a × b / c` rounded half away from zero through a 256-bit product, and whether the quotient overflowed.
    static func mulDivRounded(_ a: UInt128, _ b: UInt128, _ c: UInt128) -> (value: UInt128, overflow: Bool) {
        let product = a.multipliedFullWidth(by: b)
        guard product.high < c else { return (0, true) }
        let (quotient, remainder) = c.dividingFullWidth(product)
        guard remainder >= c - remainder else { return (quotient, false) }
        let (next, overflow) = quotient.addingReportingOverflow(1)
        return (next, overflow)
    }

    /// The magnitude at `target` scale as a 256-bit number (high, low), for comparisons.
    private static func widened(_ number: ExactDecimal, to target: UInt8) -> (high: UInt128, low: UInt128) {
        number.significand.magnitude.multipliedFullWidth(by: powerOfTen(Int(target - number.scale)))
    }
}

/// An exact amount of money in one currency, as reports compute it (sums, converted amounts).
public struct Amount: Hashable, Sendable, CustomStringConvertible {
    /// The value.
    public let value: ExactDecimal
    /// The currency.
    public let currency: CurrencyCode

    /// Creates an amount.
    public init(_ value: ExactDecimal, _ currency: CurrencyCode) {
        self.value = value
        self.currency = currency
    }

    /// `1250000.00 USD`: exact, at least two decimals.
    public var description: String { "\(value.formatted(minimumFractionDigits: 2)) \(currency.code)" }
}

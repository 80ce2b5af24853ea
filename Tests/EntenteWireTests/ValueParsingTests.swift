import EntenteCore
import EntenteTestSupport
import Testing

/// Parsing, normalising, ordering and printing of the core's exact value types (`Value.swift`). They live in
/// the wire tests because this target already depends on EntenteCore and the core tests belong to the lead.
@Suite("Values: decimals, money, dates, instants")
struct ValueParsingTests {
    // MARK: DecimalNumber

    @Test("decimals are normalised: 1234.50 equals 1234.5, significand 12345 at scale 1")
    func decimalNormalised() throws {
        let a = try #require(DecimalNumber("1234.50"))
        let b = try #require(DecimalNumber("1234.5"))
        #expect(a == b)
        #expect(a.significand == 12345 && a.scale == 1)
        #expect(a.hashValue == b.hashValue)
        #expect(a.description == "1234.5")
        let whole = try #require(DecimalNumber("100.000"))
        #expect(whole.significand == 100 && whole.scale == 0)  // zeros of the whole part stay
        let zero = try #require(DecimalNumber("-0.000"))
        #expect(zero.significand == 0 && zero.scale == 0)
        #expect(DecimalNumber(significand: 1_000, scale: 3) == DecimalNumber(significand: 1, scale: 0))
        #expect(DecimalNumber(significand: 5, scale: 19) == nil)
        #expect(DecimalNumber(significand: 5, scale: 18)?.scale == 18)
    }

    @Test("negative and small decimals parse exactly")
    func decimalNegative() throws {
        let small = try #require(DecimalNumber("-0.001"))
        #expect(small.significand == -1 && small.scale == 3)
        #expect(small.description == "-0.001")
        let plain = try #require(DecimalNumber("-42"))
        #expect(plain.significand == -42 && plain.scale == 0)
        let fraction = try #require(DecimalNumber(".5"))
        #expect(fraction.significand == 5 && fraction.scale == 1)
        #expect(fraction.description == "0.5")
        let eighteen = try #require(DecimalNumber("0.000000000000000001"))
        #expect(eighteen.significand == 1 && eighteen.scale == 18)
        #expect(DecimalNumber("0.0000000000000000001") == nil)  // 19 fractional digits
        #expect(DecimalNumber("9223372036854775807")?.significand == .max)
    }

    @Test(
        "text that is not a plain 64-bit decimal is refused",
        arguments: [
            "99999999999999999999", "9223372036854775808", "1e5", "1E5", "1,000", ".", "", "-", "+", "1.", "-.",
            "1.2.3",
            " 1", "1 ", "0x10", "--1", "١٢", "½", "1_000", "NaN", "inf",
        ]
    )
    func decimalRefused(text: String) {
        #expect(DecimalNumber(text) == nil, "\(text.debugDescription)")
    }

    @Test("comparison is exact across scales: 1.10 < 1.2, -1 < 0.5, 2.50 == 2.5")
    func decimalOrder() throws {
        let texts = ["1.10", "1.2", "-1", "0.5", "-0.5", "0", "-2", "-1.999999999999999999", "2.50", "2.5"]
        var d: [String: DecimalNumber] = [:]
        for text in texts {
            let number: DecimalNumber = try #require(DecimalNumber(text), "\(text)")
            d[text] = number
        }
        #expect(d["1.10"]! < d["1.2"]!)
        #expect(!(d["1.2"]! < d["1.10"]!))
        #expect(d["-1"]! < d["0.5"]!)
        #expect(d["-0.5"]! < d["0"]!)
        #expect(d["-2"]! < d["-1.999999999999999999"]!)
        #expect(!(d["2.50"]! < d["2.5"]!) && !(d["2.5"]! < d["2.50"]!))
        #expect(d["2.50"] == d["2.5"])
        // Scaling the larger number to 18 places overflows 64 bits; the order must still be right.
        let huge = DecimalNumber(significand: .max, scale: 0)!
        let tiny = DecimalNumber(significand: 1, scale: 18)!
        let negativeHuge = DecimalNumber(significand: .min, scale: 0)!
        let negativeTiny = DecimalNumber(significand: -1, scale: 18)!
        #expect(tiny < huge && !(huge < tiny))
        #expect(negativeHuge < negativeTiny && !(negativeTiny < negativeHuge))
        #expect(negativeHuge < tiny && negativeTiny < huge)
        #expect(negativeTiny < DecimalNumber(significand: 0, scale: 0)!)
    }

    @Test("random decimal pairs compare like exact 128-bit arithmetic", arguments: [UInt64(1), 2, 3])
    func decimalOrderProperty(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func random() -> DecimalNumber {
            let significand: Int64 =
                rng.chance(10)
                ? rng.pick([0, 1, -1, .max, .min]) : Int64(bitPattern: rng.next()) >> UInt64(rng.int(0...62))
            return DecimalNumber(significand: significand, scale: UInt8(rng.int(0...18)))!
        }
        var mismatches: [String] = []
        for _ in 0..<3_000 {
            let (a, b) = (random(), random())
            let scale = max(a.scale, b.scale)
            func exact(_ number: DecimalNumber) -> Int128 {
                var value = Int128(number.significand)
                for _ in Int(number.scale)..<Int(scale) { value *= 10 }
                return value
            }
            if (a < b) != (exact(a) < exact(b)) { mismatches.append("\(a) vs \(b)") }
            if (a == b) != (exact(a) == exact(b)) { mismatches.append("\(a) == \(b)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    // MARK: Money

    @Test("money parses with the currency after or before the amount")
    func moneyParses() throws {
        let usd = try #require(Money("1250000.00 USD"))
        #expect(usd.amount == DecimalNumber(significand: 1_250_000, scale: 0))
        #expect(usd.currency.code == "USD")
        let eur = try #require(Money("EUR 12"))
        #expect(eur.amount == DecimalNumber("12") && eur.currency.code == "EUR")
        let negative = try #require(Money("-0.05 CHF"))
        #expect(negative.amount == DecimalNumber("-0.05"))
        #expect(Money("  7   JPY ")?.amount == DecimalNumber("7"))  // runs of spaces separate
    }

    @Test("a lower-case currency is normalised to upper case")
    func moneyNormalisesCurrency() throws {
        let money = try #require(Money("12 usd"))
        #expect(money.currency.code == "USD")
        #expect(money == Money("12 USD"))
        #expect(CurrencyCode("eUr")?.code == "EUR")
    }

    @Test(
        "text that is not an amount and a three-letter code is refused",
        arguments: [
            "12", "USD", "", "12 US", "12 USDT", "12 U5D", "USD EUR", "1.5 USD EUR", "12 €€€", "1e3 USD", "12USD",
        ]
    )
    func moneyRefused(text: String) {
        #expect(Money(text) == nil, "\(text.debugDescription)")
    }

    @Test("money prints with at least two decimals")
    func moneyDescription() throws {
        #expect(try #require(Money("1250000.00 USD")).description == "1250000.00 USD")
        #expect(try #require(Money("EUR 12")).description == "12.00 EUR")
        #expect(try #require(Money("0.5 USD")).description == "0.50 USD")
        #expect(try #require(Money("-0.05 USD")).description == "-0.05 USD")
        #expect(try #require(Money("-7 USD")).description == "-7.00 USD")
        #expect(try #require(Money("1.234 USD")).description == "1.234 USD")  // never rounds
        let pounds = try #require(Money("3 GBP"))
        #expect(Value.money(pounds).description == "3.00 GBP")
    }

    @Test(
        "money whose amount does not fit 64 bits at two decimals still prints two decimals"
    )
    func moneyDescriptionOverflow() {
        let money = Money(amount: DecimalNumber(significand: .max, scale: 0)!, currency: CurrencyCode("USD")!)
        #expect(money.description == "9223372036854775807.00 USD")
    }

    // MARK: CalendarDate

    @Test("valid dates parse and print back, including 29 February of leap years")
    func datesParse() throws {
        for text in ["2024-02-29", "2000-02-29", "1970-01-01", "0001-01-01", "9999-12-31", "2023-04-30", "2023-12-31"] {
            let date = try #require(CalendarDate(text), "\(text)")
            #expect(date.description == text)
        }
        let leap = try #require(CalendarDate("2024-02-29"))
        #expect(leap.year == 2024 && leap.month == 2 && leap.day == 29)
    }

    @Test(
        "dates that do not exist or are not YYYY-MM-DD are refused",
        arguments: [
            "2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "2024-04-31", "2024-01-32",
            "0000-01-01",
            "10000-01-01", "2024-1-01", "2024-01-1", "24-01-01", "2024/01/01", "2024-01-01T00:00Z", "", "2024--01-01",
            "abcd-ef-gh",
        ]
    )
    func datesRefused(text: String) {
        #expect(CalendarDate(text) == nil, "\(text.debugDescription)")
    }

    @Test(
        "signs are not digits in a date"
    )
    func dateSigns() {
        #expect(CalendarDate("2024-+2-01") == nil)
        #expect(CalendarDate("2024-02-+1") == nil)
        #expect(CalendarDate("+024-02-01") == nil)
    }

    @Test("dates order by year, month, day")
    func dateOrder() throws {
        let dates = try ["2024-02-29", "2024-03-01", "2023-12-31", "0001-01-01", "2024-02-28"].map {
            try #require(CalendarDate($0))
        }
        #expect(
            dates.sorted().map(\.description) == ["0001-01-01", "2023-12-31", "2024-02-28", "2024-02-29", "2024-03-01"]
        )
    }

    @Test("days since 1970-01-01: 0 for the epoch, 11017 for 2000-03-01, negative before")
    func daysSinceEpoch() throws {
        func days(_ text: String) throws -> Int64 { try #require(CalendarDate(text)).daysSinceEpoch }
        #expect(try days("1970-01-01") == 0)
        #expect(try days("1970-01-02") == 1)
        #expect(try days("1969-12-31") == -1)
        #expect(try days("2000-03-01") == 11017)  // 30 years (7 leap) = 10957 days to 2000-01-01, + 31 + 29
        #expect(try days("2024-02-29") == 19782)
        #expect(try days("0001-01-01") == -719_162)
    }

    @Test("day counts and dates convert both ways over every day from 1600 to 2400")
    func daysRoundTrip() throws {
        var previous: Int64?
        let start = try #require(CalendarDate("1600-01-01")).daysSinceEpoch
        let end = try #require(CalendarDate("2400-12-31")).daysSinceEpoch
        var failures = 0
        for day in start...end {
            guard let date = CalendarDate(daysSinceEpoch: day), date.daysSinceEpoch == day else {
                failures += 1
                continue
            }
            if let previous, previous + 1 != day { failures += 1 }
            previous = day
        }
        #expect(failures == 0)
        #expect(CalendarDate(daysSinceEpoch: 0) == .unixEpoch && CalendarDate.unixEpoch.description == "1970-01-01")
        #expect(CalendarDate(daysSinceEpoch: -719_162)?.description == "0001-01-01")
        #expect(CalendarDate(daysSinceEpoch: 2_932_896)?.description == "9999-12-31")
        #expect(CalendarDate(daysSinceEpoch: -719_163) == nil && CalendarDate(daysSinceEpoch: 2_932_897) == nil)
        #expect(CalendarDate(daysSinceEpoch: .max) == nil && CalendarDate(daysSinceEpoch: .min) == nil)
    }

    // MARK: instants

    @Test("instants print as ISO 8601 UTC, with milliseconds only when there are some")
    func iso8601Prints() {
        #expect(CalendarDate.iso8601(milliseconds: 0) == "1970-01-01T00:00:00Z")
        #expect(CalendarDate.iso8601(milliseconds: 1_709_164_800_123) == "2024-02-29T00:00:00.123Z")
        #expect(CalendarDate.iso8601(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(CalendarDate.iso8601(milliseconds: -86_400_000) == "1969-12-31T00:00:00Z")
        #expect(CalendarDate.iso8601(milliseconds: -62_135_596_800_000) == "0001-01-01T00:00:00Z")
        #expect(Value.timestamp(1_000).description == "1970-01-01T00:00:01Z")
    }

    @Test(
        "parsing an instant's printed form gives the instant back",
        arguments: [
            Int64(0), 1, 999, 1_000, 1_709_164_800_123, 1_709_209_599_999, -1, -999, -1_000, -86_400_001,
            -62_135_596_800_000, 253_402_300_799_999,
        ]
    )
    func iso8601RoundTrip(milliseconds: Int64) throws {
        let text = CalendarDate.iso8601(milliseconds: milliseconds)
        #expect(CalendarDate.parseISO8601(text) == milliseconds, "\(text)")
    }

    @Test("instants parse with minutes only, with seconds, and with milliseconds")
    func iso8601Parses() {
        let leapDay: Int64 = 1_709_164_800_000  // 2024-02-29T00:00:00Z
        let halfPastNoon: Int64 = leapDay + 45_000_000
        #expect(CalendarDate.parseISO8601("2024-02-29T12:30Z") == halfPastNoon)
        #expect(CalendarDate.parseISO8601("2024-02-29T12:30:15Z") == halfPastNoon + 15_000)
        #expect(CalendarDate.parseISO8601("2024-02-29T12:30:15.007Z") == halfPastNoon + 15_007)
        #expect(CalendarDate.parseISO8601("1969-12-31T23:59:59.999Z") == -1)
    }

    @Test(
        "malformed instants are refused",
        arguments: [
            "", "1970-01-01", "1970-01-01T00:00", "1970-01-01T00:00+01:00", "1970-01-01T24:00Z", "1970-01-01T00:60Z",
            "1970-01-01T00:00:60Z", "1970-01-01T0:00Z", "1970-01-01T00:00:00.1Z", "1970-01-01T00:00:00.1234Z",
            "2023-02-29T00:00Z", "1970-01-01 00:00Z", "T00:00Z",
        ]
    )
    func iso8601Refused(text: String) {
        #expect(CalendarDate.parseISO8601(text) == nil, "\(text.debugDescription)")
    }

    @Test(
        "signs are not digits in an instant"
    )
    func iso8601Signs() {
        #expect(CalendarDate.parseISO8601("1970-01-01T00:00:00.-01Z") == nil)
        #expect(CalendarDate.parseISO8601("1970-01-01T+1:00Z") == nil)
        #expect(CalendarDate.parseISO8601("1970-01-01T00:00:+1Z") == nil)
    }

    /// The codec accepts any 64-bit timestamp value (a partner may send one), so printing it must not trap.
    @Test(
        "every timestamp value prints, down to Int64.min"
    )
    func iso8601Extremes() {
        #expect(!CalendarDate.iso8601(milliseconds: .min).isEmpty)
        #expect(!Value.timestamp(.min + 1).description.isEmpty)
    }

    // MARK: Value

    @Test("kind tags and names match the wire format")
    func valueKinds() throws {
        let decimal = try #require(DecimalNumber("1.5"))
        let money = try #require(Money("1 USD"))
        let date = try #require(CalendarDate("2024-01-01"))
        let values: [Value] = [
            .null, .string("s"), .integer(1), .boolean(true), .decimal(decimal), .money(money), .date(date),
            .timestamp(0),
            .enumeration("won"), .reference(ObjectID(raw: ID128(high: 1, low: 2))),
        ]
        #expect(values.map(\.kindTag) == Array(0...9))
        #expect(
            values.map(\.kindName) == [
                "null", "string", "integer", "boolean", "decimal", "money", "date", "timestamp", "enum", "ref",
            ]
        )
        #expect(
            values.map(\.description) == [
                "(unset)", "s", "1", "true", "1.5", "1.00 USD", "2024-01-01", "1970-01-01T00:00:00Z", "won",
                "ref:" + ObjectID(raw: ID128(high: 1, low: 2)).hex,
            ]
        )
        // The tie-break order is total: sorting puts kinds in tag order and is stable under shuffling.
        var rng = SplitMix64(seed: 5)
        #expect(values.shuffled(using: &rng).sorted() == values)
    }

    @Test("the tie-break order within a kind follows the payload")
    func valueOrderWithinKinds() throws {
        let (d110, d12, d250, d25) = try (
            #require(DecimalNumber("1.10")), #require(DecimalNumber("1.2")), #require(DecimalNumber("2.50")),
            #require(DecimalNumber("2.5"))
        )
        let (eur9, usd1, usd15, usd2) = try (
            #require(Money("9 EUR")), #require(Money("1 USD")), #require(Money("1.5 USD")), #require(Money("2 USD"))
        )
        let (dec31, jan1) = try (#require(CalendarDate("2023-12-31")), #require(CalendarDate("2024-01-01")))
        #expect(Value.decimal(d110) < .decimal(d12))
        #expect(Value.money(eur9) < .money(usd1))  // currency first
        #expect(Value.money(usd15) < .money(usd2))
        #expect(Value.date(dec31) < .date(jan1))
        #expect(!(Value.decimal(d250) < .decimal(d25)) && !(Value.decimal(d25) < .decimal(d250)))
        #expect(Value.timestamp(-1) < .timestamp(0))
        #expect(Value.enumeration("a") < .enumeration("b"))
    }
}

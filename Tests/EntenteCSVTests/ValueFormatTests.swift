import EntenteCSV
import EntenteCore
import EntenteDomain
import Testing

/// Lenient CRM values, read through a one-column mapping so the whole import path is exercised.
@Suite("Lenient value formats")
struct ValueFormatTests {
    /// Converts one cell of column `v` mapped to `field` (a catalog opportunity field, or a custom one of `type`).
    static func read(
        _ cell: String,
        field: String,
        type: String? = nil,
        dateFormat: String? = nil,
        currency: String? = "USD",
        numberFormat: String? = nil,
        values: [Mapping.ValueMapping]? = nil
    ) throws -> Result<Value, RowError> {
        let isMoney = field == "amount" || type == "money"
        let mapping = Mapping(
            objectType: "opportunity",
            keyColumn: "id",
            numberFormat: numberFormat,
            columns: [
                Mapping.Column(
                    "v",
                    field,
                    type: type,
                    values: values,
                    dateFormat: dateFormat,
                    currency: isMoney ? currency : nil
                )
            ]
        )
        let plan = try CSVPlan(mapping: mapping)
        let result = try plan.convert(text: "id,v\n1,\(CSVWriter.quoted(cell))\n")
        if let error = result.errors.first { return .failure(error) }
        let row = try #require(result.rows.first)
        return .success(try #require(row.value(field)))
    }

    static func accepts(
        _ cell: String,
        as expected: Value,
        field: String,
        type: String? = nil,
        dateFormat: String? = nil,
        numberFormat: String? = nil
    ) throws {
        let result = try read(cell, field: field, type: type, dateFormat: dateFormat, numberFormat: numberFormat)
        #expect(try result.get() == expected, "\(cell.debugDescription) as \(field)")
    }

    static func rejects(
        _ cell: String,
        field: String,
        type: String? = nil,
        dateFormat: String? = nil,
        mentioning: String
    ) throws {
        let result = try read(cell, field: field, type: type, dateFormat: dateFormat)
        guard case .failure(let error) = result else {
            Issue.record("\(cell.debugDescription) was accepted as \(field): \(result)")
            return
        }
        #expect(error.line == 2)
        #expect(error.column == "v")
        #expect(error.message.contains("'\(cell)'") || cell.isEmpty, "message names the value: \(error.message)")
        #expect(error.message.contains(mentioning), "\(error.message)")
    }

    /// A value from its canonical text (null if the text is not canonical, which then fails the comparison).
    static func canonical(_ type: FieldType, _ text: String) -> Value {
        (try? type.parse(text).get()) ?? .null
    }

    static func date(_ year: Int32, _ month: UInt8, _ day: UInt8) -> Value {
        CalendarDate(year: year, month: month, day: day).map(Value.date) ?? .null
    }

    static func usd(_ text: String) -> Value { canonical(.money, text + " USD") }

    @Test(
        "dates: ISO and M/D/YYYY by default",
        arguments: [
            ("2027-03-31", date(2027, 3, 31)), ("3/31/2027", date(2027, 3, 31)), ("03/05/2027", date(2027, 3, 5)),
            (" 12/1/2026 ", date(2026, 12, 1)), ("2028-02-29", date(2028, 2, 29)),
        ]
    )
    func defaultDates(cell: String, expected: Value) throws {
        try Self.accepts(cell, as: expected, field: "close_date")
    }

    @Test(
        "dates in a named format, ISO always accepted too",
        arguments: [
            ("31/3/2027", "D/M/YYYY", date(2027, 3, 31)), ("31.03.2027", "D.M.YYYY", date(2027, 3, 31)),
            ("5.3.2027", "DD.MM.YYYY", date(2027, 3, 5)), ("2027-03-31", "D/M/YYYY", date(2027, 3, 31)),
            ("03/31/2027", "MM/DD/YYYY", date(2027, 3, 31)), ("05/03/2027", "DD/MM/YYYY", date(2027, 3, 5)),
        ]
    )
    func namedDates(cell: String, format: String, expected: Value) throws {
        try Self.accepts(cell, as: expected, field: "close_date", dateFormat: format)
    }

    @Test(
        "bad dates are rejected, naming the accepted forms",
        arguments: [
            ("31/3/2027", nil), ("2027-02-29", nil), ("3/31/27", nil), ("March 31, 2027", nil), ("2027-13-01", nil),
            ("3/31/2027", "D/M/YYYY"), ("31.3.2027", "D/M/YYYY"), ("2027/03/31", nil), ("1/2/3/2027", nil),
        ] as [(String, String?)]
    )
    func badDates(cell: String, format: String?) throws {
        try Self.rejects(cell, field: "close_date", dateFormat: format, mentioning: format ?? "M/D/YYYY")
    }

    static let march31 = (CalendarDate("2027-03-31")?.daysSinceEpoch ?? 0) * 86_400_000
    static let nineThirty: Int64 = (9 * 60 + 30) * 60_000

    static let timestampCases: [(String, Int64)] = [
        ("2027-03-31T09:30:00Z", march31 + nineThirty),
        ("2027-03-31T09:30:00.250Z", march31 + nineThirty + 250),
        ("2027-03-31 09:30:00", march31 + nineThirty),
        ("2027-03-31T09:30", march31 + nineThirty),
        ("2027-03-31T11:30:00+02:00", march31 + nineThirty),
        ("2027-03-31T04:30:00-0500", march31 + nineThirty),
        ("3/31/2027 9:30 AM", march31 + nineThirty),
        ("3/31/2027 9:30 pm", march31 + nineThirty + 12 * 3_600_000),
        ("3/31/2027 12:05 AM", march31 + 5 * 60_000),
        ("2027-03-31 09:30:00 UTC", march31 + nineThirty),
        ("2027-03-31", march31),
    ]

    @Test(
        "timestamps: ISO with T and Z, a space, offsets, AM/PM, a date alone (all UTC unless an offset says)",
        arguments: timestampCases
    )
    func timestamps(cell: String, milliseconds: Int64) throws {
        try Self.accepts(cell, as: .timestamp(milliseconds), field: "seen_at", type: "timestamp")
    }

    @Test(
        "bad timestamps are rejected",
        arguments: [
            "2027-03-31T25:00:00Z", "2027-03-31T09:3Z", "31/3/2027 09:30", "2027-03-31T09:30:00+2", "13:00 PM",
            "2027-03-31 9:30 XM",
        ]
    )
    func badTimestamps(cell: String) throws {
        try Self.rejects(cell, field: "seen_at", type: "timestamp", mentioning: "2027-03-31T09:30:00Z")
    }

    static let moneyCases: [(String, Value)] = [
        ("1200000", usd("1200000")), ("1,200,000.00", usd("1200000")), ("$1,200,000.00", usd("1200000")),
        ("1200000.5 USD", usd("1200000.5")), ("USD 1200000.5", usd("1200000.5")), ("(1,000.00)", usd("-1000")),
        ("-$5.25", usd("-5.25")), ("$-5.25", usd("-5.25")), ("  42.10  ", usd("42.1")), ("0.005", usd("0.005")),
        ("1200000.50 EUR", canonical(.money, "1200000.5 EUR")),
        ("€1,000", canonical(.money, "1000 EUR")),
    ]

    @Test("money: plain, grouped, symbols, codes, accounting negatives", arguments: moneyCases)
    func money(cell: String, expected: Value) throws {
        try Self.accepts(cell, as: expected, field: "amount")
    }

    @Test(
        "bad amounts are rejected",
        arguments: ["12,00", "1,2,3", "1.2.3", "$", "twelve", "1 200", "--5", "(-5)", "1e6", "5 US", "€1,000 USD"]
    )
    func badMoney(cell: String) throws {
        try Self.rejects(cell, field: "amount", mentioning: cell == "€1,000 USD" ? "€" : "1,200,000.00")
    }

    @Test("amounts in a European number format")
    func europeanMoney() throws {
        let euros = Value.money(Money(amount: DecimalNumber("1234567.89")!, currency: CurrencyCode("USD")!))
        try Self.accepts("1.234.567,89", as: euros, field: "amount", numberFormat: "1.234,56")
        try Self.accepts("1\u{A0}234\u{A0}567,89 USD", as: euros, field: "amount", numberFormat: "1 234,56")
        let result = try Self.read("1,234,567.89", field: "amount", numberFormat: "1.234,56")
        #expect(throws: RowError.self) { try result.get() }
    }

    @Test(
        "probability: 25, 25%, 25.0, within 0...100",
        arguments: [("25", 25), ("25%", 25), ("25 %", 25), ("25.00", 25), ("0", 0), ("100", 100)] as [(String, Int64)]
    )
    func probability(cell: String, expected: Int64) throws {
        try Self.accepts(cell, as: .integer(expected), field: "probability")
    }

    @Test(
        "bad probabilities are rejected",
        arguments: [
            ("101", "out of range 0-100"), ("-1", "out of range"), ("25.5", "whole number"), ("high", "whole number"),
        ]
    )
    func badProbability(cell: String, mentioning: String) throws {
        try Self.rejects(cell, field: "probability", mentioning: mentioning)
    }

    @Test("decimals: a percent sign divides by 100")
    func decimals() throws {
        try Self.accepts("25%", as: .decimal(DecimalNumber("0.25")!), field: "discount", type: "decimal")
        try Self.accepts("-1,234.5", as: .decimal(DecimalNumber("-1234.5")!), field: "discount", type: "decimal")
        try Self.rejects("1/4", field: "discount", type: "decimal", mentioning: "not a number")
    }

    @Test(
        "booleans",
        arguments: [
            ("true", true), ("FALSE", false), ("Yes", true), ("no", false), ("1", true), ("0", false), ("x", true),
            ("X", true), ("y", true), ("n", false),
        ]
    )
    func booleans(cell: String, expected: Bool) throws {
        try Self.accepts(cell, as: .boolean(expected), field: "on_hold")
    }

    @Test("bad booleans are rejected")
    func badBoolean() throws {
        try Self.rejects("maybe", field: "on_hold", mentioning: "true/false")
    }

    @Test("choices: the value map, then an exact match, then case and spaces folded")
    func choices() throws {
        let stageMap = [
            Mapping.ValueMapping("Closed Won", "closed-won"), Mapping.ValueMapping("Prospecting", "prospect"),
        ]
        for (cell, expected) in [
            ("Closed Won", "closed-won"), ("closed won", "closed-won"), ("Prospecting", "prospect"),
            ("qualified", "qualified"), ("Technical Validation", "technical-validation"),
            ("BUSINESS_VALIDATION", "business-validation"),
        ] {
            let result = try Self.read(cell, field: "stage", values: stageMap)
            #expect(try result.get() == .string(expected), "\(cell)")
        }
        let bad = try Self.read("Negotiation", field: "stage", values: stageMap)
        guard case .failure(let error) = bad else {
            Issue.record("accepted an unknown stage")
            return
        }
        #expect(error.message.contains("'Negotiation'") && error.message.contains("closed-won"))
        #expect(error.message.contains("Prospecting"), "the message lists the CRM values: \(error.message)")
    }

    @Test("text is kept exactly, value maps apply to it")
    func text() throws {
        try Self.accepts("  spaced  ", as: .string("  spaced  "), field: "title")
        let region = try Self.read(
            "North America",
            field: "region",
            values: [Mapping.ValueMapping("North America", "NA")]
        )
        #expect(try region.get() == .string("NA"))
    }

    @Test("references take an object id in hex")
    func references() throws {
        let hex = "00112233445566778899aabbccddeeff"
        try Self.accepts(hex.uppercased(), as: .reference(ObjectID(hex: hex)!), field: "lead")
        try Self.rejects("L-1001", field: "lead", mentioning: "lead id")
    }
}

import EntenteCore
import EntenteReports

/// The hand-checked fixture: Acme and three partners (Globex, Initech, Umbrella), ten deals in USD and EUR.
///
/// | deal | outcome | amount       | originator | participants (besides Acme) | cycle start → close      | days |
/// |------|---------|--------------|------------|-----------------------------|--------------------------|------|
/// | D1   | won     | 100000.00 USD| Globex     | Globex                      | engaged 01-11 → 03-12    | 60   |
/// | D2   | won     |  50000.00 USD| Acme       | Initech                     | created 02-01 → 03-03    | 30   |
/// | D3   | won     |  80000.00 EUR| Globex     | Globex, Initech             | engaged 03-15 → 05-14    | 60   |
/// | D4   | lost    |  40000.00 USD| Initech    | Initech                     | (lost)                   |      |
/// | D5   | lost    |  20000.00 EUR| Acme       | Umbrella                    | (lost)                   |      |
/// | D6   | open    | 120000.00 USD| Globex     | Globex                      | (open)                   |      |
/// | D7   | open    |  30000.00 USD| Acme       | (none)                      | (open)                   |      |
/// | D8   | open    |  60000.00 EUR| Acme       | Umbrella                    | (open)                   |      |
/// | D9   | open    | (none)       | Initech    | Initech                     | (open)                   |      |
/// | D10  | won     |  10000.00 USD| (unknown)  | Umbrella                    | no close date: excluded  |      |
///
/// All dates are in 2025. Day counts by hand: Jan 11 → Feb 11 is 31 days, → Mar 11 is 28, → Mar 12 is 1:
/// 60. Feb 1 → Mar 1 is 28, → Mar 3 is 2: 30. Mar 15 → Apr 15 is 31, → May 14 is 29: 60.
enum Fixture {
    static let me = "Acme"
    static let asOf = date("2025-06-30")
    static let stageOrder = ["Qualification", "Proposal", "Closed Won", "Closed Lost"]  // Negotiation unlisted

    static func date(_ text: String) -> CalendarDate {
        guard let date = CalendarDate(text) else { fatalError("bad date \(text)") }
        return date
    }

    static func money(_ text: String) -> Money {
        guard let money = Money(text) else { fatalError("bad money \(text)") }
        return money
    }

    static func options(
        _ grouping: Grouping = .none,
        rates: RateTable? = nil,
        hidePrivate: Bool = false
    )
        -> ReportOptions
    {
        ReportOptions(
            thisCompany: me,
            groupBy: grouping,
            rates: rates,
            hidePrivate: hidePrivate,
            asOf: asOf,
            stageOrder: stageOrder
        )
    }

    static func report(
        _ grouping: Grouping = .none,
        rates: RateTable? = nil,
        hidePrivate: Bool = false
    ) throws
        -> Report
    {
        try Report(deals: deals, options: options(grouping, rates: rates, hidePrivate: hidePrivate))
    }

    static let deals: [DealRecord] = [
        DealRecord(
            id: "D1",
            title: "Globex cloud migration",
            stage: "Closed Won",
            outcome: .won,
            amount: money("100000.00 USD"),
            probability: 100,
            created: date("2025-01-01"),
            engaged: date("2025-01-11"),
            closeDate: date("2025-03-12"),
            originatingCompany: "Globex",
            participants: ["Acme", "Globex"],
            region: "EMEA",
            solution: "Cloud"
        ),
        DealRecord(
            id: "D2",
            title: "Acme security suite",
            stage: "Closed Won",
            outcome: .won,
            amount: money("50000.00 USD"),
            created: date("2025-02-01"),
            closeDate: date("2025-03-03"),
            originatingCompany: "Acme",
            participants: ["Acme", "Initech"],
            region: "NA",
            solution: "Security"
        ),
        DealRecord(
            id: "D3",
            title: "Joint EU rollout",
            stage: "Closed Won",
            outcome: .won,
            amount: money("80000.00 EUR"),
            created: date("2025-03-01"),
            engaged: date("2025-03-15"),
            closeDate: date("2025-05-14"),
            originatingCompany: "Globex",
            participants: ["Acme", "Globex", "Initech"],
            region: "EMEA",
            solution: "Cloud"
        ),
        DealRecord(
            id: "D4",
            title: "Initech referral",
            stage: "Closed Lost",
            outcome: .lost,
            amount: money("40000.00 USD"),
            created: date("2025-01-15"),
            closeDate: date("2025-04-10"),
            originatingCompany: "Initech",
            participants: ["Acme", "Initech"],
            region: "NA",
            solution: "Security"
        ),
        DealRecord(
            id: "D5",
            title: "Umbrella data lake",
            stage: "Closed Lost",
            outcome: .lost,
            amount: money("20000.00 EUR"),
            created: date("2025-02-10"),
            closeDate: date("2025-05-20"),
            originatingCompany: "Acme",
            participants: ["Acme", "Umbrella"],
            region: "EMEA",
            solution: "Data"
        ),
        DealRecord(
            id: "D6",
            title: "Globex expansion",
            stage: "Proposal",
            outcome: .open,
            amount: money("120000.00 USD"),
            probability: 60,
            created: date("2025-04-01"),
            engaged: date("2025-04-05"),
            closeDate: date("2025-08-30"),
            originatingCompany: "Globex",
            participants: ["Acme", "Globex"],
            region: "NA",
            solution: "Cloud"
        ),
        DealRecord(
            id: "D7",
            title: "Direct renewal",
            stage: "Qualification",
            outcome: .open,
            amount: money("30000.00 USD"),
            created: date("2025-05-01"),
            originatingCompany: "Acme",
            participants: ["Acme"],
            region: "NA",
            solution: nil
        ),
        DealRecord(
            id: "D8",
            title: "Umbrella analytics",
            stage: "Proposal",
            outcome: .open,
            amount: money("60000.00 EUR"),
            created: date("2025-05-10"),
            closeDate: date("2025-07-15"),
            originatingCompany: "Acme",
            participants: ["Acme", "Umbrella"],
            region: "EMEA",
            solution: "Data"
        ),
        DealRecord(
            id: "D9",
            title: "Initech hidden-amount deal",
            stage: "Negotiation",
            outcome: .open,
            amount: nil,
            created: date("2025-06-01"),
            originatingCompany: "Initech",
            participants: ["Acme", "Initech"],
            region: nil,
            solution: "Cloud"
        ),
        DealRecord(
            id: "D10",
            title: "Umbrella quick win",
            stage: "Closed Won",
            outcome: .won,
            amount: money("10000.00 USD"),
            created: date("2025-02-20"),
            closeDate: nil,
            originatingCompany: nil,
            participants: ["Acme", "Umbrella"],
            region: "NA",
            solution: "Security"
        ),
    ]
}

extension CurrencyCode {
    static let usd = code("USD")
    static let eur = code("EUR")
    static let gbp = code("GBP")

    private static func code(_ text: String) -> CurrencyCode {
        guard let code = CurrencyCode(text) else { fatalError("bad currency \(text)") }
        return code
    }
}

/// `"0.10"` → the 64-bit decimal.
func exact64(_ text: String) -> DecimalNumber {
    guard let number = DecimalNumber(text) else { fatalError("bad decimal \(text)") }
    return number
}

/// `"150000.00"` → the exact decimal, for comparisons.
func exact(_ text: String) -> ExactDecimal {
    guard let number = DecimalNumber(text) else { fatalError("bad decimal \(text)") }
    return ExactDecimal(number)
}

extension GroupFigures {
    func money(_ currency: CurrencyCode) -> CurrencyFigures? { currencies.first { $0.currency == currency } }
}

extension Report {
    func group(_ key: String?) -> GroupFigures? { groups.first { $0.key == key } }
    func partner(_ name: String) -> PartnerFigures? { partners.first { $0.partner == name } }
}

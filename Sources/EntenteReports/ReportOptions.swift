public import EntenteCore

/// How a report splits deals into groups (besides the total, which it always has).
public enum Grouping: Hashable, Sendable, CustomStringConvertible {
    /// No groups: the total only.
    case none
    /// One group per partner company (participants and originator, minus this company); a deal with two
    /// partners is in both groups, so groups overlap.
    case partner
    /// One group per sales stage.
    case stage
    /// One group per region.
    case region
    /// One group per solution.
    case solution
    /// One group per calendar period of the close date (the creation date when there is none).
    case period(Period)

    /// A calendar period.
    public enum Period: String, Hashable, Sendable, CaseIterable {
        /// `2025-03`.
        case month
        /// `2025-Q1`.
        case quarter
        /// `2025`.
        case year
    }

    /// Parses the names users type: `none`, `partner`, `stage`, `region`, `solution`, `month`, `quarter`,
    /// `year`.
    public init?(name: String) {
        switch name {
        case "none": self = .none
        case "partner": self = .partner
        case "stage": self = .stage
        case "region": self = .region
        case "solution": self = .solution
        default:
            guard let period = Period(rawValue: name) else { return nil }
            self = .period(period)
        }
    }

    /// The name as users type it.
    public var name: String {
        switch self {
        case .none: "none"
        case .partner: "partner"
        case .stage: "stage"
        case .region: "region"
        case .solution: "solution"
        case .period(let period): period.rawValue
        }
    }

    /// The name as users type it.
    public var description: String { name }

    /// Whether one deal can fall into several groups (so group rows do not add up to the total).
    public var groupsOverlap: Bool { self == .partner }
}

/// Exact exchange rates into one target currency.
///
/// A rate says how many units of the target one unit of the source is worth: with target `EUR`, the rate
/// `0.92` for `USD` turns `100 USD` into `92 EUR`. Conversion is an exact decimal product.
public struct RateTable: Hashable, Sendable {
    /// The currency everything is converted into.
    public let target: CurrencyCode
    /// Units of `target` per unit of each source currency.
    public let rates: [CurrencyCode: DecimalNumber]

    /// Creates a table, or nil if a rate is zero or negative.
    ///
    /// The target's own rate is 1 and may be omitted; a different rate given for it is refused too.
    public init?(target: CurrencyCode, rates: [CurrencyCode: DecimalNumber]) {
        guard rates.values.allSatisfy({ $0.significand > 0 }) else { return nil }
        if let own = rates[target], own != DecimalNumber(significand: 1, scale: 0) { return nil }
        self.target = target
        self.rates = rates
    }

    /// The rate from `currency` into the target, or nil if the table has none.
    public func rate(from currency: CurrencyCode) -> DecimalNumber? {
        currency == target ? DecimalNumber(significand: 1, scale: 0) : rates[currency]
    }
}

/// What a report shows and how.
public struct ReportOptions: Hashable, Sendable {
    /// The display name of the company the report is for; every other company is a partner.
    public var thisCompany: String
    /// How deals are grouped.
    public var groupBy: Grouping
    /// Rates into one currency; without them every money figure is per currency, never mixed.
    public var rates: RateTable?
    /// Whether the caller removed this company's private values; the report then says so in a banner.
    public var hidePrivate: Bool
    /// The report's date (reports never read a clock).
    public var asOf: CalendarDate
    /// The order of sales stages, for stage groups and the pipeline-by-stage chart; stages not listed
    /// follow in alphabetical order.
    public var stageOrder: [String]
    /// The report's title; nil means "Co-sell report: <this company>".
    public var title: String?

    /// Creates options.
    public init(
        thisCompany: String,
        groupBy: Grouping = .none,
        rates: RateTable? = nil,
        hidePrivate: Bool = false,
        asOf: CalendarDate,
        stageOrder: [String] = [],
        title: String? = nil
    ) {
        self.thisCompany = thisCompany
        self.groupBy = groupBy
        self.rates = rates
        self.hidePrivate = hidePrivate
        self.asOf = asOf
        self.stageOrder = stageOrder
        self.title = title
    }
}

public import EntenteCore

/// The KPIs of a set of deals, computed once and rendered as a table, JSON, CSV or HTML.
///
/// Definitions are in `Specs/reports.md`. Money figures are per currency (``CurrencyFigures``) unless a
/// ``RateTable`` converted them into one currency; counts, win ratios and sales cycles do not depend on
/// currency and belong to the whole group (``GroupFigures``).
///
/// ```swift
/// let report = try Report(deals: deals, options: ReportOptions(thisCompany: "Acme", asOf: today))
/// print(renderTable(report))
/// ```
public struct Report: Hashable, Sendable {
    /// The report's title.
    public let title: String
    /// The company the report is for.
    public let thisCompany: String
    /// The report's date.
    public let asOf: CalendarDate
    /// How ``groups`` were formed.
    public let grouping: Grouping
    /// Whether private values were removed before the report (shown as a banner).
    public let privateValuesHidden: Bool
    /// The conversion applied, if a rate table was given.
    public let conversion: Conversion?
    /// Every currency that has a money figure, in display order (the conversion target first).
    public let currencies: [CurrencyCode]
    /// All deals.
    public let total: GroupFigures
    /// The groups of ``grouping`` in display order (empty for ``Grouping/none``).
    public let groups: [GroupFigures]
    /// Sourced and influenced deals and win ratio, per partner, by partner name.
    public let partners: [PartnerFigures]
    /// Open deals per stage, in stage order (stages with at least one open deal).
    public let pipelineByStage: [StageFigures]

    /// Whether a deal can be in several groups, so group rows do not add up to the total.
    public var groupsOverlap: Bool { grouping.groupsOverlap }

    /// The conversion a report applied.
    public struct Conversion: Hashable, Sendable {
        /// The currency amounts were converted into.
        public let target: CurrencyCode
        /// The rates of the table, by currency code.
        public let rates: [CurrencyRate]
        /// Currencies the table had no rate for: their amounts stay in their own currency.
        public let unconverted: [CurrencyCode]
    }

    /// One exchange rate: one unit of `currency` is worth `rate` units of the target.
    public struct CurrencyRate: Hashable, Sendable {
        /// The source currency.
        public let currency: CurrencyCode
        /// Units of the target per unit of `currency`.
        public let rate: DecimalNumber
    }
}

/// Deal counts by outcome.
public struct DealCounts: Hashable, Sendable {
    /// Open deals.
    public internal(set) var open = 0
    /// Won deals.
    public internal(set) var won = 0
    /// Lost deals.
    public internal(set) var lost = 0
    /// Deals of these counted that have no visible amount (so no money figure includes them).
    public internal(set) var withoutAmount = 0

    /// All deals: open + won + lost.
    public var total: Int { open + won + lost }

    mutating func count(_ outcome: Outcome, hasAmount: Bool) {
        switch outcome {
        case .open: open += 1
        case .won: won += 1
        case .lost: lost += 1
        }
        if !hasAmount { withoutAmount += 1 }
    }
}

/// Won deals over closed deals; reports leave it out (n/a) when no deal is closed.
public struct WinRatio: Hashable, Sendable {
    /// Won deals.
    public let won: Int
    /// Won plus lost deals (more than zero).
    public let closed: Int
    /// `100 × won / closed`, rounded half away from zero to two decimals.
    public let percent: ExactDecimal
}

/// The average length of the sales cycle of won deals.
public struct SalesCycle: Hashable, Sendable {
    /// The won deals measured (those with a close date not before their start).
    public let deals: Int
    /// The sum of their cycle lengths in days.
    public let totalDays: Int64
    /// `totalDays / deals`, rounded half away from zero to two decimals.
    public let averageDays: ExactDecimal
}

/// The money KPIs of a group in one currency.
public struct CurrencyFigures: Hashable, Sendable {
    /// The currency of every amount here.
    public let currency: CurrencyCode
    /// Open, won and lost deals with an amount in this currency.
    public let counts: DealCounts
    /// The sum of open amounts.
    public let pipeline: ExactDecimal
    /// The sum of won amounts.
    public let revenue: ExactDecimal
    /// `revenue / counts.won`, rounded to two decimals; nil when no won deal has an amount in this currency.
    public let averageWonDealSize: ExactDecimal?
    /// `counts.open × averageWonDealSize × winRatio / averageSalesCycleDays`, per day, rounded to two
    /// decimals (computed from the unrounded factors); nil when a factor is undefined (or too large).
    public let velocityPerDay: ExactDecimal?
    /// Pipeline of partner-sourced deals.
    public let partnerSourcedPipeline: ExactDecimal
    /// Revenue of partner-sourced deals.
    public let partnerSourcedRevenue: ExactDecimal
    /// Pipeline of partner-influenced deals.
    public let partnerInfluencedPipeline: ExactDecimal
    /// Revenue of partner-influenced deals.
    public let partnerInfluencedRevenue: ExactDecimal
}

/// The KPIs of a group of deals (or of all deals).
public struct GroupFigures: Hashable, Sendable {
    /// The group's name (partner, stage, region, solution or period).
    ///
    /// Nil for the group of deals that have none (no partner, no region, ...), and for the total.
    public let key: String?
    /// Deals by outcome.
    public let counts: DealCounts
    /// Deals brought by a partner (originating company known and not this company).
    public let partnerSourced: DealCounts
    /// Deals a partner takes part in that no partner brought (disjoint from ``partnerSourced``).
    public let partnerInfluenced: DealCounts
    /// Won over closed deals; nil (n/a) when none is closed.
    public let winRatio: WinRatio?
    /// The average sales cycle of won deals; nil (n/a) when none can be measured.
    public let salesCycle: SalesCycle?
    /// Money KPIs, one entry per currency that has an amount in this group (in report currency order).
    public let currencies: [CurrencyFigures]
}

/// What one partner brought and influenced.
///
/// Per partner, *sourced* means the partner is the originating company and *influenced* means the partner
/// takes part without being the originating company. One deal can count for several partners (sourced by
/// one, influenced by another), so these figures are never added across partners, nor sourced to influenced.
public struct PartnerFigures: Hashable, Sendable {
    /// The partner's display name.
    public let partner: String
    /// Deals the partner brought.
    public let sourced: DealCounts
    /// Deals the partner takes part in but did not bring.
    public let influenced: DealCounts
    /// Won over closed deals among all the partner's deals (sourced or influenced); nil when none is closed.
    public let winRatio: WinRatio?
    /// Money per currency.
    public let currencies: [PartnerCurrencyFigures]

    /// A partner's money in one currency.
    public struct PartnerCurrencyFigures: Hashable, Sendable {
        /// The currency.
        public let currency: CurrencyCode
        /// Open amounts of deals the partner brought.
        public let sourcedPipeline: ExactDecimal
        /// Won amounts of deals the partner brought.
        public let sourcedRevenue: ExactDecimal
        /// Open amounts of deals the partner influenced.
        public let influencedPipeline: ExactDecimal
        /// Won amounts of deals the partner influenced.
        public let influencedRevenue: ExactDecimal
    }
}

/// The open deals of one stage.
public struct StageFigures: Hashable, Sendable {
    /// The stage (nil for deals with an empty stage).
    public let stage: String?
    /// Open deals in the stage, with or without an amount.
    public let openDeals: Int
    /// Open deals in the stage without a visible amount.
    public let openDealsWithoutAmount: Int
    /// The open amount per currency (report currency order; currencies with no open deal here omitted).
    public let pipeline: [Amount]
}

/// Why a report could not be computed.
public struct ReportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    ///
    /// It wraps a private enum so that cases can be added without breaking clients.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case overflow
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A sum does not fit the exact 128-bit arithmetic (amounts near 10^38 units).
        public static let overflow = Code(.overflow)

        /// A short identifier of the code.
        public var description: String { "\(base)" }
    }

    /// The kind of failure.
    public let code: Code
    /// A sentence naming the problem.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

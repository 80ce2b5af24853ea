public import EntenteCore

/// Where a deal stands.
public enum Outcome: String, Hashable, Sendable, CaseIterable {
    /// Still in progress: counts towards the pipeline.
    case open
    /// Closed and won: counts towards revenue.
    case won
    /// Closed and lost.
    case lost
}

/// One deal as a report sees it: plain values, already filtered to what this company may see.
///
/// The caller builds these from replicated objects. A value this company cannot see (or chose to hide) is
/// simply absent (`nil`); the report never guesses it.
public struct DealRecord: Hashable, Sendable {
    /// A stable identifier (for example the object's hex id).
    public var id: String
    /// The deal's title.
    public var title: String
    /// The sales stage (free text; ``ReportOptions/stageOrder`` orders stages).
    public var stage: String
    /// Open, won or lost.
    public var outcome: Outcome
    /// The deal's amount; nil when unknown to this company or hidden.
    public var amount: Money?
    /// The win probability in percent, if known (carried for callers; no KPI uses it).
    public var probability: Int?
    /// The day the deal object was created.
    public var created: CalendarDate
    /// The day partners were engaged: the start of the sales cycle when set.
    public var engaged: CalendarDate?
    /// The day the deal closed (or is expected to close, for open deals).
    public var closeDate: CalendarDate?
    /// The display name of the company that brought the deal, if known.
    public var originatingCompany: String?
    /// The display names of the companies taking part, this company included.
    public var participants: [String]
    /// The sales region, if any.
    public var region: String?
    /// The solution or product line, if any.
    public var solution: String?

    /// Creates a deal record.
    public init(
        id: String,
        title: String,
        stage: String,
        outcome: Outcome,
        amount: Money?,
        probability: Int? = nil,
        created: CalendarDate,
        engaged: CalendarDate? = nil,
        closeDate: CalendarDate? = nil,
        originatingCompany: String? = nil,
        participants: [String],
        region: String? = nil,
        solution: String? = nil
    ) {
        self.id = id
        self.title = title
        self.stage = stage
        self.outcome = outcome
        self.amount = amount
        self.probability = probability
        self.created = created
        self.engaged = engaged
        self.closeDate = closeDate
        self.originatingCompany = originatingCompany
        self.participants = participants
        self.region = region
        self.solution = solution
    }
}

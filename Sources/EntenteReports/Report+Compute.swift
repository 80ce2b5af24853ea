import EntenteCore

extension Report {
    /// Computes the KPIs of `deals` (see `Specs/reports.md` for every definition).
    ///
    /// - Parameters:
    ///   - deals: The deals, already stripped of values this company may not see or chose to hide.
    ///   - options: The company the report is for, its date, grouping and currency conversion.
    /// - Returns: The report, ready for ``renderTable(_:)``, ``renderJSON(_:)``, ``renderCSV(_:)`` or
    ///   ``renderHTML(_:)``.
    /// - Throws: ``ReportError/Code-swift.struct/overflow`` if a sum does not fit 128 bits.
    ///
    /// ```swift
    /// let options = ReportOptions(thisCompany: "Acme", groupBy: .partner, asOf: today)
    /// let report = try Report(deals: deals, options: options)
    /// ```
    public init(deals: [DealRecord], options: ReportOptions) throws(ReportError) {
        var builder = ReportBuilder(options: options)
        for deal in deals { try builder.add(deal) }
        self.init(builder)
    }

    /// The report of the deals added to `builder`.
    fileprivate init(_ builder: ReportBuilder) {
        let options = builder.options
        let (total, groups, partners, stages) = (builder.total, builder.groups, builder.partners, builder.stages)
        let (seenCurrencies, unconverted) = (builder.seenCurrencies, builder.unconverted)
        let target = options.rates?.target
        let currencyOrder = seenCurrencies.sorted { left, right in
            if left == target || right == target { return left == target && right != target }
            return left.code < right.code
        }

        self.title = options.title ?? "Co-sell report: \(options.thisCompany)"
        self.thisCompany = options.thisCompany
        self.asOf = options.asOf
        self.grouping = options.groupBy
        self.privateValuesHidden = options.hidePrivate
        self.currencies = currencyOrder
        self.conversion = options.rates.map { table in
            Conversion(
                target: table.target,
                rates: table.rates.filter { $0.key != table.target }
                    .map { CurrencyRate(currency: $0.key, rate: $0.value) }
                    .sorted { $0.currency.code < $1.currency.code },
                unconverted: unconverted.sorted { $0.code < $1.code }
            )
        }
        self.total = total.figures(key: nil, currencyOrder: currencyOrder)
        if options.groupBy == .none {
            self.groups = []
        } else {
            self.groups = GroupKey.ordered(Array(groups.keys), stageOrder: options.stageOrder).compactMap { key in
                groups[key]?.figures(key: key.name, currencyOrder: currencyOrder)
            }
        }
        self.partners = partners.keys.sorted().compactMap { name in
            partners[name]?.figures(partner: name, currencyOrder: currencyOrder)
        }
        self.pipelineByStage = GroupKey.ordered(Array(stages.keys), stageOrder: options.stageOrder).compactMap {
            key in
            stages[key]?.figures(stage: key.name, currencyOrder: currencyOrder)
        }
    }

    static func groupKeys(of deal: PreparedDeal, grouping: Grouping) -> [GroupKey] {
        let record = deal.record
        switch grouping {
        case .none: return []
        case .partner: return deal.partners.isEmpty ? [GroupKey(nil)] : deal.partners.map { GroupKey($0) }
        case .stage: return [GroupKey(record.stage)]
        case .region: return [GroupKey(record.region)]
        case .solution: return [GroupKey(record.solution)]
        case .period(let period): return [GroupKey(Self.periodName(of: record.closeDate ?? record.created, period))]
        }
    }

    /// `2025-03`, `2025-Q1` or `2025`.
    static func periodName(of date: CalendarDate, _ period: Grouping.Period) -> String {
        let day = date.description  // YYYY-MM-DD
        switch period {
        case .month: return String(day.prefix(7))
        case .quarter: return "\(day.prefix(4))-Q\((Int(date.month) - 1) / 3 + 1)"
        case .year: return String(day.prefix(4))
        }
    }
}

/// A report computed one deal at a time, so that the deals never have to be held together: add each, then take
/// ``report``. Gives what ``Report/init(deals:options:)`` gives for the same deals in the same order.
public struct ReportBuilder: Sendable {
    fileprivate let options: ReportOptions
    fileprivate var total = GroupTally()
    fileprivate var groups: [GroupKey: GroupTally] = [:]
    fileprivate var partners: [String: PartnerTally] = [:]
    fileprivate var stages: [GroupKey: StageTally] = [:]
    fileprivate var seenCurrencies = Set<CurrencyCode>()
    fileprivate var unconverted = Set<CurrencyCode>()

    /// Starts an empty report.
    public init(options: ReportOptions) { self.options = options }

    /// Counts one deal (already stripped of values this company may not see or chose to hide).
    /// - Throws: ``ReportError/Code-swift.struct/overflow`` if a sum does not fit 128 bits.
    public mutating func add(_ record: DealRecord) throws(ReportError) {
        let deal = PreparedDeal(record, options: options)
        if let amount = deal.amount { seenCurrencies.insert(amount.currency) }
        if deal.unconverted, let currency = deal.amount?.currency { unconverted.insert(currency) }
        try total.add(deal)
        for key in Report.groupKeys(of: deal, grouping: options.groupBy) {
            try groups[key, default: GroupTally()].add(deal)
        }
        for partner in deal.partners {
            try partners[partner, default: PartnerTally()].add(deal, partner: partner)
        }
        if deal.record.outcome == .open {
            try stages[GroupKey(deal.record.stage), default: StageTally()].add(deal)
        }
    }

    /// The report of the deals added so far.
    public var report: Report { Report(self) }
}

/// A group's name; `nil` (and the empty string) is the group of deals that have no value.
struct GroupKey: Hashable {
    let name: String?

    init(_ name: String?) {
        self.name = name?.isEmpty == false ? name : nil
    }

    /// Listed stages first in the given order, then the others by name, the nameless group last.
    static func ordered(_ keys: [GroupKey], stageOrder: [String]) -> [GroupKey] {
        var rank: [String: Int] = [:]
        for (index, stage) in stageOrder.enumerated() where rank[stage] == nil { rank[stage] = index }
        return keys.sorted { left, right in
            guard let leftName = left.name else { return false }
            guard let rightName = right.name else { return true }
            switch (rank[leftName], rank[rightName]) {
            case (let leftRank?, let rightRank?): return leftRank < rightRank
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return leftName < rightName
            }
        }
    }
}

/// A deal with what the report derives from it once.
struct PreparedDeal {
    let record: DealRecord
    /// The amount, converted into the rate table's target when it has a rate for the currency.
    let amount: Amount?
    /// Whether a rate table was given but had no rate for the amount's currency.
    let unconverted: Bool
    /// The partner that brought the deal, if any.
    let sourcingPartner: String?
    /// Partner companies involved: participants and the sourcing partner, minus this company; unique, sorted.
    let partners: [String]
    /// The sales cycle in days, for won deals with a close date not before the cycle's start.
    let cycleDays: Int64?

    var isPartnerSourced: Bool { sourcingPartner != nil }
    var isPartnerInfluenced: Bool { sourcingPartner == nil && !partners.isEmpty }

    init(_ record: DealRecord, options: ReportOptions) {
        self.record = record
        var converted: Amount?
        var unconverted = false
        if let money = record.amount {
            if let table = options.rates, let rate = table.rate(from: money.currency) {
                converted = Amount(ExactDecimal.product(money.amount, rate), table.target)
            } else {
                converted = Amount(ExactDecimal(money.amount), money.currency)
                unconverted = options.rates != nil
            }
        }
        self.amount = converted
        self.unconverted = unconverted
        let me = options.thisCompany
        if let origin = record.originatingCompany, !origin.isEmpty, origin != me {
            self.sourcingPartner = origin
        } else {
            self.sourcingPartner = nil
        }
        var partners = Set(record.participants.filter { !$0.isEmpty && $0 != me })
        if let origin = sourcingPartner { partners.insert(origin) }
        self.partners = partners.sorted()
        if record.outcome == .won, let close = record.closeDate {
            let days = close.daysSinceEpoch - (record.engaged ?? record.created).daysSinceEpoch
            self.cycleDays = days >= 0 ? days : nil
        } else {
            self.cycleDays = nil
        }
    }
}

// MARK: - Accumulators

private func sum(_ left: ExactDecimal, _ right: ExactDecimal) throws(ReportError) -> ExactDecimal {
    guard let result = left.adding(right) else {
        throw ReportError(.overflow, "A sum of amounts does not fit exact 128-bit arithmetic.")
    }
    return result
}

/// Open and won sums.
private struct MoneyTally {
    var pipeline = ExactDecimal.zero
    var revenue = ExactDecimal.zero

    mutating func add(_ outcome: Outcome, _ value: ExactDecimal) throws(ReportError) {
        switch outcome {
        case .open: pipeline = try sum(pipeline, value)
        case .won: revenue = try sum(revenue, value)
        case .lost: break
        }
    }
}

private struct CurrencyTally {
    var counts = DealCounts()
    var all = MoneyTally()
    var sourced = MoneyTally()
    var influenced = MoneyTally()
}

private struct GroupTally {
    var counts = DealCounts()
    var sourced = DealCounts()
    var influenced = DealCounts()
    var cycleDeals = 0
    var cycleDays: Int64 = 0
    var currencies: [CurrencyCode: CurrencyTally] = [:]

    mutating func add(_ deal: PreparedDeal) throws(ReportError) {
        let outcome = deal.record.outcome
        let hasAmount = deal.amount != nil
        counts.count(outcome, hasAmount: hasAmount)
        if deal.isPartnerSourced { sourced.count(outcome, hasAmount: hasAmount) }
        if deal.isPartnerInfluenced { influenced.count(outcome, hasAmount: hasAmount) }
        if let days = deal.cycleDays {
            let (next, overflow) = cycleDays.addingReportingOverflow(days)
            guard !overflow else { throw ReportError(.overflow, "The sum of sales cycle days does not fit.") }
            cycleDays = next
            cycleDeals += 1
        }
        guard let amount = deal.amount else { return }
        var tally = currencies[amount.currency, default: CurrencyTally()]
        tally.counts.count(outcome, hasAmount: true)
        try tally.all.add(outcome, amount.value)
        if deal.isPartnerSourced { try tally.sourced.add(outcome, amount.value) }
        if deal.isPartnerInfluenced { try tally.influenced.add(outcome, amount.value) }
        currencies[amount.currency] = tally
    }

    func figures(key: String?, currencyOrder: [CurrencyCode]) -> GroupFigures {
        let ratio = winRatio(won: counts.won, lost: counts.lost)
        var cycle: SalesCycle?
        if cycleDeals > 0,
            let average = ExactDecimal.quotient(
                ExactDecimal(normalising: Int128(cycleDays), scale: 0),
                times: 1,
                dividedBy: UInt128(cycleDeals),
                places: 2
            )
        {
            cycle = SalesCycle(deals: cycleDeals, totalDays: cycleDays, averageDays: average)
        }
        let money = currencyOrder.compactMap { currency -> CurrencyFigures? in
            guard let tally = currencies[currency] else { return nil }
            let wonDeals = UInt128(tally.counts.won)
            return CurrencyFigures(
                currency: currency,
                counts: tally.counts,
                pipeline: tally.all.pipeline,
                revenue: tally.all.revenue,
                averageWonDealSize: ExactDecimal.quotient(tally.all.revenue, times: 1, dividedBy: wonDeals, places: 2),
                velocityPerDay: velocity(tally, cycle: cycle),
                partnerSourcedPipeline: tally.sourced.pipeline,
                partnerSourcedRevenue: tally.sourced.revenue,
                partnerInfluencedPipeline: tally.influenced.pipeline,
                partnerInfluencedRevenue: tally.influenced.revenue
            )
        }
        return GroupFigures(
            key: key,
            counts: counts,
            partnerSourced: sourced,
            partnerInfluenced: influenced,
            winRatio: ratio,
            salesCycle: cycle,
            currencies: money
        )
    }

    /// open × (revenue / wonDeals) × (won / closed) / (cycleDays / cycleDeals)
    /// = revenue × (open × won × cycleDeals) / (wonDeals × closed × cycleDays), rounded once at the end.
    private func velocity(_ tally: CurrencyTally, cycle: SalesCycle?) -> ExactDecimal? {
        let closed = counts.won + counts.lost
        guard tally.counts.won > 0, closed > 0, let cycle, cycle.totalDays > 0 else { return nil }
        let multiplier = checkedProduct([tally.counts.open, counts.won, cycle.deals])
        let divisor = checkedProduct([tally.counts.won, closed, Int(cycle.totalDays)])
        guard !multiplier.overflow, !divisor.overflow else { return nil }
        return ExactDecimal.quotient(tally.all.revenue, times: multiplier.value, dividedBy: divisor.value, places: 2)
    }
}

/// The product of non-negative factors, and whether it overflowed 128 bits.
private func checkedProduct(_ factors: [Int]) -> (value: UInt128, overflow: Bool) {
    var product: UInt128 = 1
    for factor in factors {
        guard factor >= 0 else { return (0, true) }
        let (next, overflow) = product.multipliedReportingOverflow(by: UInt128(factor))
        guard !overflow else { return (0, true) }
        product = next
    }
    return (product, false)
}

private func winRatio(won: Int, lost: Int) -> WinRatio? {
    let closed = won + lost
    guard closed > 0,
        let percent = ExactDecimal.quotient(ExactDecimal(won), times: 100, dividedBy: UInt128(closed), places: 2)
    else { return nil }
    return WinRatio(won: won, closed: closed, percent: percent)
}

private struct PartnerTally {
    var sourced = DealCounts()
    var influenced = DealCounts()
    var currencies: [CurrencyCode: (sourced: MoneyTally, influenced: MoneyTally)] = [:]

    mutating func add(_ deal: PreparedDeal, partner: String) throws(ReportError) {
        let outcome = deal.record.outcome
        let brought = deal.sourcingPartner == partner
        if brought {
            sourced.count(outcome, hasAmount: deal.amount != nil)
        } else {
            influenced.count(outcome, hasAmount: deal.amount != nil)
        }
        guard let amount = deal.amount else { return }
        var tally = currencies[amount.currency, default: (MoneyTally(), MoneyTally())]
        if brought {
            try tally.sourced.add(outcome, amount.value)
        } else {
            try tally.influenced.add(outcome, amount.value)
        }
        currencies[amount.currency] = tally
    }

    func figures(partner: String, currencyOrder: [CurrencyCode]) -> PartnerFigures {
        PartnerFigures(
            partner: partner,
            sourced: sourced,
            influenced: influenced,
            winRatio: winRatio(won: sourced.won + influenced.won, lost: sourced.lost + influenced.lost),
            currencies: currencyOrder.compactMap { currency in
                guard let tally = currencies[currency] else { return nil }
                return PartnerFigures.PartnerCurrencyFigures(
                    currency: currency,
                    sourcedPipeline: tally.sourced.pipeline,
                    sourcedRevenue: tally.sourced.revenue,
                    influencedPipeline: tally.influenced.pipeline,
                    influencedRevenue: tally.influenced.revenue
                )
            }
        )
    }
}

private struct StageTally {
    var openDeals = 0
    var withoutAmount = 0
    var pipeline: [CurrencyCode: ExactDecimal] = [:]

    mutating func add(_ deal: PreparedDeal) throws(ReportError) {
        openDeals += 1
        guard let amount = deal.amount else {
            withoutAmount += 1
            return
        }
        pipeline[amount.currency] = try sum(pipeline[amount.currency] ?? .zero, amount.value)
    }

    func figures(stage: String?, currencyOrder: [CurrencyCode]) -> StageFigures {
        StageFigures(
            stage: stage,
            openDeals: openDeals,
            openDealsWithoutAmount: withoutAmount,
            pipeline: currencyOrder.compactMap { currency in pipeline[currency].map { Amount($0, currency) } }
        )
    }
}

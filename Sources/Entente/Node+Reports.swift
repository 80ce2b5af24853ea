import EntenteCore
import EntenteDomain
public import EntenteReports
import EntenteStore

extension Node {
    /// The opportunities this company takes part in (archived ones left out), as report records from its own
    /// view: joint fields, this company's own deal value and probability (left out if `hidePrivate` and they
    /// are private), else the deal value the owner shares with it.
    ///
    /// The originating company is the joint `originating_company`, else the owner (the company that brought
    /// the deal into Entente). The sales cycle starts at the joint `engaged_date`, else the day the object was
    /// created. See `Specs/reports.md` for the KPIs.
    public func dealRecords(hidePrivate: Bool = false) throws(EntenteError) -> [DealRecord] {
        var records: [DealRecord] = []
        try forEachDealRecord(hidePrivate: hidePrivate) { records.append($0) }
        return records
    }

    /// Passes each of ``dealRecords(hidePrivate:)`` to `body` as it is read, from one read transaction, without
    /// holding them all; an error `body` throws stops the reading and is rethrown (an `EntenteError` as is).
    func forEachDealRecord(hidePrivate: Bool, _ body: (DealRecord) throws -> Void) throws(EntenteError) {
        let kind = Catalog.opportunity
        try reading { tx in
            let names = try tx.companyNames()
            func name(_ company: CompanyID) -> String { names[company] ?? company.short }
            try forEachObject(of: kind.name, tx) { state in
                guard state.isParticipant(company), let owner = state.owner, let created = state.created else { return }
                func joint(_ field: String) -> Value? {
                    let value = state.fields[FieldKey(.joint, field)]?.winner.value
                    return value == .null ? nil : value
                }
                func own(_ field: String, of writer: CompanyID) -> Value? {
                    guard let register = state.fields[FieldKey(.company(writer), field)]?.winner,
                        register.value != .null, !(hidePrivate && writer == company && register.visibility == .private)
                    else { return nil }
                    return register.value
                }
                func text(_ value: Value?) -> String? {
                    if case .string(let text)? = value { return text }
                    return nil
                }
                func date(_ value: Value?) -> CalendarDate? {
                    if case .date(let date)? = value { return date }
                    return nil
                }
                let stage = kind.state(of: state) ?? kind.workflow?.initial ?? ""
                var amount: Money?
                for writer in [company, owner] {
                    if case .money(let money)? = own("amount", of: writer) {
                        amount = money
                        break
                    }
                }
                var probability: Int?
                if case .integer(let percent)? = own("probability", of: company) { probability = Int(percent) }
                let originator = text(joint("originating_company")).flatMap(CompanyID.init(hex:)) ?? owner
                try body(
                    DealRecord(
                        id: state.id.hex,
                        title: text(joint(kind.titleField)) ?? "(untitled \(state.id.short))",
                        stage: stage,
                        outcome: stage == "closed-won" ? .won : stage == "closed-lost" ? .lost : .open,
                        amount: amount,
                        probability: probability,
                        // Creation time is an HLC time checked against the clock on arrival: always a real day.
                        created: CalendarDate(daysSinceEpoch: Int64(created.physical / 86_400_000)) ?? .unixEpoch,
                        engaged: date(joint("engaged_date")),
                        closeDate: date(joint("close_date")),
                        originatingCompany: name(originator),
                        participants: state.participants.map(name).sorted(),
                        region: text(joint("region")),
                        solution: text(joint("solution"))
                    )
                )
            }
        }
    }

    /// The KPI report of this company's joint pipeline (`entente report`): `options.thisCompany` is set to
    /// this company's name and the stage order to the opportunity workflow's.
    public func report(_ options: ReportOptions) throws(EntenteError) -> Report {
        var options = options
        options.thisCompany = card.name
        if options.stageOrder.isEmpty { options.stageOrder = Catalog.opportunity.workflow?.states ?? [] }
        // Deals are counted as they are read: a report over a million never holds them together.
        var builder = ReportBuilder(options: options)
        try forEachDealRecord(hidePrivate: options.hidePrivate) { deal in
            do { try builder.add(deal) } catch { throw EntenteError(.invalidArgument, "report: \(error)") }
        }
        return builder.report
    }
}

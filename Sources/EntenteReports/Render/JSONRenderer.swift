import EntenteCore

/// Renders a report as JSON with a stable key order (schema `entente.report/1`, in `Specs/reports.md`).
///
/// Counts are JSON integers. Money and other decimals are strings, so no reader loses exactness to binary
/// floating point: money is exact with at least two decimals (`"1250000.00"`); rounded figures (win ratio
/// percent, average days, average deal size, velocity) have exactly two. Undefined figures are `null`.
///
/// - Parameter report: The report.
/// - Returns: Pretty-printed JSON (two-space indent) ending in `\n`.
public func renderJSON(_ report: Report) -> String {
    JSONValue.object([
        ("schema", .string("entente.report/1")),
        ("title", .string(report.title)),
        ("thisCompany", .string(report.thisCompany)),
        ("asOf", .string(report.asOf.description)),
        ("groupBy", .string(report.grouping.name)),
        ("groupsOverlap", .bool(report.groupsOverlap)),
        ("privateValuesHidden", .bool(report.privateValuesHidden)),
        (
            "conversion",
            report.conversion.map { conversion in
                .object([
                    ("target", .string(conversion.target.code)),
                    (
                        "rates",
                        .array(
                            conversion.rates.map {
                                .object([
                                    ("currency", .string($0.currency.code)), ("rate", .string($0.rate.description)),
                                ])
                            }
                        )
                    ),
                    ("unconverted", .array(conversion.unconverted.map { .string($0.code) })),
                ])
            } ?? .null
        ),
        ("currencies", .array(report.currencies.map { .string($0.code) })),
        ("total", group(report.total)),
        ("groups", .array(report.groups.map(group))),
        ("partners", .array(report.partners.map(partner))),
        ("pipelineByStage", .array(report.pipelineByStage.map(stage))),
    ]).serialized() + "\n"
}

private func counts(_ counts: DealCounts) -> JSONValue {
    .object([
        ("open", .integer(counts.open)),
        ("won", .integer(counts.won)),
        ("lost", .integer(counts.lost)),
        ("total", .integer(counts.total)),
        ("withoutAmount", .integer(counts.withoutAmount)),
    ])
}

private func winRatio(_ ratio: WinRatio?) -> JSONValue {
    guard let ratio else { return .null }
    return .object([
        ("won", .integer(ratio.won)),
        ("closed", .integer(ratio.closed)),
        ("percent", .string(Figure.twoDecimals(ratio.percent))),
    ])
}

private func money(_ value: ExactDecimal) -> JSONValue { .string(Figure.exact(value)) }

private func rounded(_ value: ExactDecimal?) -> JSONValue {
    value.map { .string(Figure.twoDecimals($0)) } ?? .null
}

private func group(_ group: GroupFigures) -> JSONValue {
    .object([
        ("key", group.key.map(JSONValue.string) ?? .null),
        ("counts", counts(group.counts)),
        ("partnerSourced", counts(group.partnerSourced)),
        ("partnerInfluenced", counts(group.partnerInfluenced)),
        ("winRatio", winRatio(group.winRatio)),
        (
            "salesCycle",
            group.salesCycle.map { cycle in
                .object([
                    ("deals", .integer(cycle.deals)),
                    ("totalDays", .integer(Int(cycle.totalDays))),
                    ("averageDays", .string(Figure.twoDecimals(cycle.averageDays))),
                ])
            } ?? .null
        ),
        (
            "currencies",
            .array(
                group.currencies.map { figures in
                    .object([
                        ("currency", .string(figures.currency.code)),
                        ("counts", counts(figures.counts)),
                        ("pipeline", money(figures.pipeline)),
                        ("revenue", money(figures.revenue)),
                        ("averageWonDealSize", rounded(figures.averageWonDealSize)),
                        ("velocityPerDay", rounded(figures.velocityPerDay)),
                        ("partnerSourcedPipeline", money(figures.partnerSourcedPipeline)),
                        ("partnerSourcedRevenue", money(figures.partnerSourcedRevenue)),
                        ("partnerInfluencedPipeline", money(figures.partnerInfluencedPipeline)),
                        ("partnerInfluencedRevenue", money(figures.partnerInfluencedRevenue)),
                    ])
                }
            )
        ),
    ])
}

private func partner(_ partner: PartnerFigures) -> JSONValue {
    .object([
        ("partner", .string(partner.partner)),
        ("sourced", counts(partner.sourced)),
        ("influenced", counts(partner.influenced)),
        ("winRatio", winRatio(partner.winRatio)),
        (
            "currencies",
            .array(
                partner.currencies.map { figures in
                    .object([
                        ("currency", .string(figures.currency.code)),
                        ("sourcedPipeline", money(figures.sourcedPipeline)),
                        ("sourcedRevenue", money(figures.sourcedRevenue)),
                        ("influencedPipeline", money(figures.influencedPipeline)),
                        ("influencedRevenue", money(figures.influencedRevenue)),
                    ])
                }
            )
        ),
    ])
}

private func stage(_ stage: StageFigures) -> JSONValue {
    .object([
        ("stage", stage.stage.map(JSONValue.string) ?? .null),
        ("openDeals", .integer(stage.openDeals)),
        ("openDealsWithoutAmount", .integer(stage.openDealsWithoutAmount)),
        (
            "pipeline",
            .array(
                stage.pipeline.map {
                    .object([("currency", .string($0.currency.code)), ("amount", money($0.value))])
                }
            )
        ),
    ])
}

/// A JSON document with ordered keys.
enum JSONValue {
    case null
    case bool(Bool)
    case integer(Int)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    func serialized(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .string(let text): return Text.json(text)
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            let body = items.map { inner + $0.serialized(indent: inner) }.joined(separator: ",\n")
            return "[\n" + body + "\n" + indent + "]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            let body = members.map { inner + Text.json($0.0) + ": " + $0.1.serialized(indent: inner) }
                .joined(separator: ",\n")
            return "{\n" + body + "\n" + indent + "}"
        }
    }
}

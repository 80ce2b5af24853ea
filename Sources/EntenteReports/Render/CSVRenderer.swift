import EntenteCore

/// The CSV columns, in order (documented in `Specs/reports.md`).
let csvColumns = [
    "scope", "group", "currency",
    "deals_open", "deals_won", "deals_lost", "deals_without_amount", "win_ratio_percent",
    "average_sales_cycle_days", "partner_sourced_deals", "partner_influenced_deals",
    "currency_deals_open", "currency_deals_won", "currency_deals_lost",
    "pipeline", "revenue", "average_won_deal_size", "velocity_per_day",
    "partner_sourced_pipeline", "partner_sourced_revenue", "partner_influenced_pipeline",
    "partner_influenced_revenue", "as_of", "private_values_hidden",
]

/// Renders a report as RFC 4180 CSV: a header, then one row per group × currency.
///
/// The total comes first (`scope` = `total`), then each group (`scope` = `group`; `group` is empty for the
/// deals that have no value, such as no partner). A group with no amount in any currency has one row with an
/// empty `currency`. Group-level columns (counts, win ratio, cycle) repeat on each currency row of a group and
/// must not be summed across rows. Money is exact; `n/a` marks undefined figures. Rows end with CRLF.
///
/// - Parameter report: The report.
/// - Returns: The CSV text.
public func renderCSV(_ report: Report) -> String {
    var records: [[String]] = [csvColumns]
    records += csvRows(report.total, scope: "total", report: report)
    for group in report.groups {
        records += csvRows(group, scope: "group", report: report)
    }
    return records.map { $0.map(Text.csvField).joined(separator: ",") + "\r\n" }.joined()
}

private func csvRows(_ group: GroupFigures, scope: String, report: Report) -> [[String]] {
    let shared = [
        "\(group.counts.open)", "\(group.counts.won)", "\(group.counts.lost)", "\(group.counts.withoutAmount)",
        group.winRatio.map { Figure.twoDecimals($0.percent) } ?? "n/a",
        group.salesCycle.map { Figure.twoDecimals($0.averageDays) } ?? "n/a",
        "\(group.partnerSourced.total)", "\(group.partnerInfluenced.total)",
    ]
    let tail = [report.asOf.description, report.privateValuesHidden ? "true" : "false"]
    let head = [scope, Text.csvText(group.key ?? "")]
    guard !group.currencies.isEmpty else {
        return [head + [""] + shared + Array(repeating: "", count: 11) + tail]
    }
    return group.currencies.map { money in
        head + [money.currency.code] + shared + [
            "\(money.counts.open)", "\(money.counts.won)", "\(money.counts.lost)",
            Figure.exact(money.pipeline), Figure.exact(money.revenue),
            Figure.twoDecimals(money.averageWonDealSize), Figure.twoDecimals(money.velocityPerDay),
            Figure.exact(money.partnerSourcedPipeline), Figure.exact(money.partnerSourcedRevenue),
            Figure.exact(money.partnerInfluencedPipeline), Figure.exact(money.partnerInfluencedRevenue),
        ] + tail
    }
}

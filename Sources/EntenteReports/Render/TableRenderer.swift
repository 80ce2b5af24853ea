import EntenteCore

/// Renders a report as aligned plain text for a terminal.
///
/// Money is rounded to two decimals and grouped (`1,250,000.00`); ``renderJSON(_:)`` and ``renderCSV(_:)``
/// carry the exact values. Names are stripped of control characters.
///
/// - Parameter report: The report.
/// - Returns: Lines ending in `\n`.
///
/// ```swift
/// print(renderTable(try Report(deals: deals, options: options)), terminator: "")
/// ```
public func renderTable(_ report: Report) -> String {
    var lines: [String] = []
    lines.append(Text.display(report.title))
    lines.append(
        "As of \(report.asOf) · for \(Text.display(report.thisCompany)) · grouped by \(report.grouping.name)"
    )
    lines.append(Figure.currencyMode(report))
    if report.privateValuesHidden {
        lines.append("")
        lines.append("*** \(Figure.privateBanner) ***")
    }

    let total = report.total
    lines.append("")
    lines.append("HEADLINE (all deals)")
    let headline: [[String]] = [
        [
            "Deals",
            "\(total.counts.total) (\(Figure.outcomes(total.counts)); \(total.counts.withoutAmount) without amount)",
        ],
        ["Win ratio", total.winRatio.map { "\(Figure.percent($0)) (\($0.won) of \($0.closed) closed)" } ?? "n/a"],
        [
            "Average sales cycle",
            total.salesCycle.map { "\(Figure.days($0)) days (over \($0.deals) won deals)" } ?? "n/a",
        ],
        ["Partner-sourced", "\(total.partnerSourced.total) deals (\(Figure.outcomes(total.partnerSourced)))"],
        [
            "Partner-influenced",
            "\(total.partnerInfluenced.total) deals (\(Figure.outcomes(total.partnerInfluenced)))",
        ],
    ]
    lines += TextTable(headers: nil, rows: headline, numeric: []).lines(indent: "  ")

    lines.append("")
    lines.append("MONEY BY CURRENCY (all deals)")
    if total.currencies.isEmpty {
        lines.append("  No deal has a visible amount.")
    } else {
        let headers = [
            "Currency", "Open", "Won", "Lost", "Pipeline", "Revenue", "Avg won deal", "Velocity/day",
            "Sourced pipeline", "Sourced revenue", "Influenced pipeline", "Influenced revenue",
        ]
        let rows = total.currencies.map { money in
            [
                money.currency.code, "\(money.counts.open)", "\(money.counts.won)", "\(money.counts.lost)",
                Figure.money(money.pipeline), Figure.money(money.revenue),
                money.averageWonDealSize.map(Figure.money) ?? "n/a",
                money.velocityPerDay.map(Figure.money) ?? "n/a",
                Figure.money(money.partnerSourcedPipeline), Figure.money(money.partnerSourcedRevenue),
                Figure.money(money.partnerInfluencedPipeline), Figure.money(money.partnerInfluencedRevenue),
            ]
        }
        lines += TextTable(headers: headers, rows: rows, numeric: Set(1..<headers.count)).lines(indent: "  ")
    }

    if !report.groups.isEmpty {
        lines.append("")
        lines.append(Figure.groupingTitle(report.grouping).uppercased())
        if let note = Figure.overlapNote(report) { lines.append("  Note: \(note)") }
        lines += groupTable(report).lines(indent: "  ")
    }

    lines.append("")
    lines.append("PARTNERS (sourced and influenced are never added together)")
    if report.partners.isEmpty {
        lines.append("  No deal involves a partner.")
    } else {
        lines += partnerTable(report).lines(indent: "  ")
    }

    lines.append("")
    lines.append("PIPELINE BY STAGE (open deals)")
    if report.pipelineByStage.isEmpty {
        lines.append("  No open deals.")
    } else {
        var rows: [[String]] = []
        for stage in report.pipelineByStage {
            let label = Text.display(stage.stage ?? "(no stage)")
            let deals =
                "\(stage.openDeals)"
                + (stage.openDealsWithoutAmount > 0 ? " (\(stage.openDealsWithoutAmount) no amount)" : "")
            if stage.pipeline.isEmpty { rows.append([label, deals, "-", "-"]) }
            for (index, amount) in stage.pipeline.enumerated() {
                rows.append([
                    index == 0 ? label : "", index == 0 ? deals : "", amount.currency.code,
                    Figure.money(amount.value),
                ])
            }
        }
        lines += TextTable(headers: ["Stage", "Open deals", "Currency", "Pipeline"], rows: rows, numeric: [1, 3])
            .lines(indent: "  ")
    }
    return lines.joined(separator: "\n") + "\n"
}

private func groupTable(_ report: Report) -> TextTable {
    let headers = [
        "Group", "Deals", "Open", "Won", "Lost", "Win ratio", "Cycle days", "Sourced", "Influenced", "Currency",
        "Pipeline", "Revenue", "Avg won deal", "Velocity/day",
    ]
    var rows: [[String]] = []
    for group in report.groups {
        let shared = [
            Text.display(Figure.groupLabel(group.key, grouping: report.grouping)), "\(group.counts.total)",
            "\(group.counts.open)", "\(group.counts.won)", "\(group.counts.lost)", Figure.percent(group.winRatio),
            Figure.days(group.salesCycle), "\(group.partnerSourced.total)", "\(group.partnerInfluenced.total)",
        ]
        if group.currencies.isEmpty { rows.append(shared + ["-", "-", "-", "-", "-"]) }
        for (index, money) in group.currencies.enumerated() {
            rows.append(
                (index == 0 ? shared : Array(repeating: "", count: shared.count)) + [
                    money.currency.code, Figure.money(money.pipeline), Figure.money(money.revenue),
                    money.averageWonDealSize.map(Figure.money) ?? "n/a",
                    money.velocityPerDay.map(Figure.money) ?? "n/a",
                ]
            )
        }
    }
    return TextTable(headers: headers, rows: rows, numeric: Set([1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13]))
}

private func partnerTable(_ report: Report) -> TextTable {
    let headers = [
        "Partner", "Sourced", "Influenced", "Win ratio", "Currency", "Sourced pipeline", "Sourced revenue",
        "Influenced pipeline", "Influenced revenue",
    ]
    var rows: [[String]] = []
    for partner in report.partners {
        let shared = [
            Text.display(partner.partner), "\(partner.sourced.total)", "\(partner.influenced.total)",
            Figure.percent(partner.winRatio),
        ]
        if partner.currencies.isEmpty { rows.append(shared + ["-", "-", "-", "-", "-"]) }
        for (index, money) in partner.currencies.enumerated() {
            rows.append(
                (index == 0 ? shared : Array(repeating: "", count: shared.count)) + [
                    money.currency.code, Figure.money(money.sourcedPipeline), Figure.money(money.sourcedRevenue),
                    Figure.money(money.influencedPipeline), Figure.money(money.influencedRevenue),
                ]
            )
        }
    }
    return TextTable(headers: headers, rows: rows, numeric: Set([1, 2, 3, 5, 6, 7, 8]))
}

/// Columns padded to their widest cell; numeric columns right-aligned.
struct TextTable {
    let headers: [String]?
    let rows: [[String]]
    let numeric: Set<Int>

    func lines(indent: String) -> [String] {
        let all = (headers.map { [$0] } ?? []) + rows
        let columns = all.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in all {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], Text.width(cell)) }
        }
        func format(_ row: [String]) -> String {
            var cells: [String] = []
            for (index, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[index] - Text.width(cell))
                cells.append(numeric.contains(index) ? padding + cell : cell + padding)
            }
            return indent + trimmedTrailingSpaces(cells.joined(separator: "  "))
        }
        var result: [String] = []
        if let headers {
            result.append(format(headers))
            result.append(indent + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        }
        result += rows.map(format)
        return result
    }

    private func trimmedTrailingSpaces(_ text: String) -> String {
        var text = Substring(text)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}

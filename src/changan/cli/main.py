"""``changan``: serve, demo, database, users, devices, watchlist, engine, bench."""

from __future__ import annotations

import getpass
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from changan import __version__
from changan.auth.principal import Actor, Role
from changan.kit.clock import utc_now
from changan.kit.errors import ChanganError
from changan.kit.logging import configure_logging
from changan.kit.settings import Settings, load_settings

app = typer.Typer(help="畅安 changan — 高速公路交警平台", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库", no_args_is_help=True)
users_app = typer.Typer(help="用户", no_args_is_help=True)
devices_app = typer.Typer(help="设备", no_args_is_help=True)
watchlist_app = typer.Typer(help="布控", no_args_is_help=True)
registry_app = typer.Typer(help="车辆登记", no_args_is_help=True)
engine_app = typer.Typer(help="检测引擎", no_args_is_help=True)
bench_app = typer.Typer(help="性能测试", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (users_app, "users"),
    (devices_app, "devices"),
    (watchlist_app, "watchlist"),
    (registry_app, "registry"),
    (engine_app, "engine"),
    (bench_app, "bench"),
):
    app.add_typer(sub, name=name)

console = Console()


def _settings() -> Settings:
    s = load_settings()
    configure_logging(s.log_level, json=s.log_json)
    return s


def _cli_actor() -> Actor:
    """The local operator: whoever can run the CLI against the database acts as administrator."""
    return Actor(
        user_id="cli", username=f"cli:{getpass.getuser()}", roles=frozenset({Role.ADMIN}), jurisdiction=""
    )


def _fail(exc: ChanganError) -> NoReturn:
    where = f"（{exc.field}）" if exc.field else ""
    console.print(f"[red]错误{where}：{exc.message}[/red]")
    raise typer.Exit(2)


@app.command()
def version() -> None:
    """显示版本。"""
    console.print(f"changan {__version__}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库迁移到最新结构。"""
    from changan.kit.migrate import upgrade

    s = _settings()
    upgrade(s.database_url)
    console.print(f"数据库已是最新结构：{s.database_url}")


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[list[str], typer.Option("--role", "-r", help="角色，可多次给出")],
    jurisdiction: Annotated[str, typer.Option(help="管辖代码（2/4/6/8 位）")] = "3715",
    station: Annotated[str | None, typer.Option(help="执法站编号（民警）")] = None,
    display_name: Annotated[str | None, typer.Option(help="显示名")] = None,
    password: Annotated[str | None, typer.Option(help="密码；不给则提示输入")] = None,
    token: Annotated[bool, typer.Option(help="同时签发 API 令牌并打印")] = False,
) -> None:
    """添加用户。"""
    from changan.auth.service import create_token, create_user
    from changan.web.context import AppContext

    s = _settings()
    ctx = AppContext.build(s, utc_now)
    if password is None:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt=True)
    try:
        with ctx.uow() as session:
            now = utc_now()
            create_user(
                session,
                _cli_actor(),
                username=username,
                password=password,
                roles=role,
                jurisdiction=jurisdiction,
                station_id=station,
                display_name=display_name,
                now=now,
            )
            secret = (
                create_token(session, _cli_actor(), username=username, name="cli", now=now) if token else None
            )
    except ChanganError as exc:
        _fail(exc)
    console.print(f"已添加用户 {username}（{', '.join(role)}，管辖 {jurisdiction}）")
    if secret:
        console.print(f"API 令牌（只显示这一次）：{secret}")


@devices_app.command("add")
def devices_add(
    device_id: str,
    site: Annotated[str, typer.Option(help="卡口点位编号（路网中的 site id）")],
    name: Annotated[str | None, typer.Option(help="设备名称")] = None,
    protocol: Annotated[str, typer.Option(help="接入协议")] = "json",
) -> None:
    """登记设备并打印它的接入密钥。"""
    from changan.devices.service import add_device
    from changan.web.context import AppContext

    ctx = AppContext.build(_settings(), utc_now)
    try:
        with ctx.uow() as session:
            _, key = add_device(
                session,
                _cli_actor(),
                ctx.network,
                device_id=device_id,
                site_id=site,
                name=name,
                protocol=protocol,
                now=utc_now(),
            )
    except ChanganError as exc:
        _fail(exc)
    console.print(f"已登记设备 {device_id}（点位 {site}）")
    console.print(f"接入密钥（只显示这一次）：{key}")


@devices_app.command("import")
def devices_import(path: Path) -> None:
    """从 JSON Lines 文件批量登记设备（每行 device_id、site_id，如模拟器的 devices.jsonl）。"""
    import json

    from changan.devices.service import import_devices
    from changan.web.context import AppContext

    ctx = AppContext.build(_settings(), utc_now)
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            console.print(f"[red]错误（第 {n} 行）：JSON 无法解析：{exc}[/red]")
            raise typer.Exit(2) from None
    with ctx.uow() as session:
        added, known, errors = import_devices(session, _cli_actor(), ctx.network, rows, now=utc_now())
    for e in errors:
        console.print(f"[red]{e}[/red]")
    console.print(f"新登记 {added} 台，已存在 {known} 台，出错 {len(errors)} 行")
    if errors:
        raise typer.Exit(2)


@devices_app.command("platform-key")
def devices_platform_key(name: str) -> None:
    """签发平台接入密钥（可为任何已登记设备提交数据，如网关、下级平台、模拟器）。"""
    from changan.devices.service import add_platform_key
    from changan.web.context import AppContext

    ctx = AppContext.build(_settings(), utc_now)
    with ctx.uow() as session:
        key = add_platform_key(session, _cli_actor(), name=name, now=utc_now())
    console.print(f"平台接入密钥（只显示这一次）：{key}")


@watchlist_app.command("add")
def watchlist_add(
    plate_no: str,
    reason: Annotated[str, typer.Option(help="布控事由")],
    plate_class: Annotated[str | None, typer.Option(help="号牌种类代码，如 02；不给则不限")] = None,
    priority: Annotated[int, typer.Option(min=0, max=100)] = 50,
    valid_until: Annotated[datetime | None, typer.Option(help="失效时间（ISO 8601，带时区）")] = None,
    match_mode: Annotated[
        str, typer.Option(help="exact 精确号牌；pattern 模糊（* 任意多位，? 一位），如 鲁P*8?5")
    ] = "exact",
) -> None:
    """添加布控（精确号牌，或模糊模式）。"""
    from pydantic import ValidationError

    from changan.watchlist.schemas import EntryCreate
    from changan.watchlist.service import create_entry
    from changan.web.context import AppContext

    ctx = AppContext.build(_settings(), utc_now)
    try:
        data = EntryCreate(
            plate_no=plate_no,
            plate_class=plate_class,
            reason=reason,
            priority=priority,
            valid_until=valid_until,
            match_mode=match_mode,  # checked by the model
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        console.print(f"[red]错误（{'.'.join(str(x) for x in err['loc'])}）：{err['msg']}[/red]")
        raise typer.Exit(2) from None
    try:
        with ctx.uow() as session:
            entry = create_entry(session, _cli_actor(), data, now=utc_now())
    except ChanganError as exc:
        _fail(exc)
    kind = "模糊布控" if entry.match_mode == "pattern" else "已布控"
    console.print(f"{kind} {entry.plate_no}（编号 {entry.id}）")


@watchlist_app.command("list")
def watchlist_list(
    status: Annotated[str | None, typer.Option(help="active 或 revoked；不给则全部")] = None,
) -> None:
    """列出布控。"""
    from rich.table import Table

    from changan.watchlist.service import list_entries
    from changan.web.context import AppContext

    ctx = AppContext.build(_settings(), utc_now)
    with ctx.reader() as session:
        entries = list_entries(session, _cli_actor(), status=status)
    table = Table(title=f"布控（{len(entries)} 条）")
    for col in ("编号", "号牌", "种类", "事由", "优先级", "生效", "失效", "状态"):
        table.add_column(col)
    for e in entries:
        table.add_row(
            e.id,
            e.plate_no,
            e.plate_class or "不限",
            e.reason,
            str(e.priority),
            e.valid_from.isoformat(timespec="seconds"),
            e.valid_until.isoformat(timespec="seconds") if e.valid_until else "长期",
            e.status,
        )
    console.print(table)


@watchlist_app.command("revoke")
def watchlist_revoke(entry_id: str) -> None:
    """撤销布控（立即停止比对）。"""
    from changan.watchlist.service import revoke_entry
    from changan.web.context import AppContext

    ctx = AppContext.build(_settings(), utc_now)
    try:
        with ctx.uow() as session:
            entry = revoke_entry(session, _cli_actor(), entry_id, now=utc_now())
    except ChanganError as exc:
        _fail(exc)
    console.print(f"已撤销布控 {entry.plate_no}（编号 {entry.id}）")


@registry_app.command("import")
def registry_import(
    path: Path,
    source: Annotated[str | None, typer.Option(help="数据来源名称，默认为文件名")] = None,
    errors: Annotated[
        Path | None, typer.Option(help="问题清单（CSV）写到哪里，默认为 FILE.errors.csv")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv、json 或 parquet；默认按扩展名")] = None,
    encoding: Annotated[str | None, typer.Option(help="CSV 编码；默认自动识别 UTF-8 / GB18030")] = None,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="每批写入的条数")] = 1_000,
) -> None:
    """导入车辆登记（CSV、JSON Lines、Parquet；中文或英文表头）。可重复导入：相同的行不改写。

    拒收的行与被忽略的值写入问题清单；有拒收行时退出码为 1。
    """
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from changan.registry.service import import_file
    from changan.web.context import AppContext

    ctx = AppContext.build(_settings(), utc_now)
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"导入 {path.name}", total=None)
            report = import_file(
                ctx.uow,
                _cli_actor(),
                path,
                clock=utc_now,
                source=source,
                fmt=fmt,
                encoding=encoding,
                batch_size=batch,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except ChanganError as exc:
        _fail(exc)
    console.print(
        f"读取 {report.rows:,} 行：接收 {report.accepted:,}（新增 {report.inserted:,}，更新 {report.updated:,}，"
        f"未变 {report.unchanged:,}，文件内重复 {report.duplicates:,}），拒收 {report.rejected:,}，"
        f"警告 {len(report.warnings):,}"
    )
    if report.ignored_columns:
        console.print(f"已忽略的列：{'、'.join(report.ignored_columns)}")
    target = errors or path.with_name(path.name + ".errors.csv")
    report.write_issues(target)
    console.print(f"问题清单（{len(report.issues):,} 条）已写入 {target}")
    for issue in report.issues[:10]:
        colour = "red" if issue.severity == "error" else "yellow"
        console.print(f"[{colour}]第 {issue.row} 行 {issue.field}：{issue.reason}[/{colour}]")
    if report.rejected:
        raise typer.Exit(1)


@registry_app.command("show")
def registry_show(
    vehicle_key: str,
    purpose: Annotated[str, typer.Option(help="查询用途（记入审计日志）")] = "命令行核查",
    case_no: Annotated[str | None, typer.Option(help="案件编号")] = None,
) -> None:
    """显示一辆车的登记信息（车辆标识如 02:鲁P12345；记入审计日志）。"""
    from rich.table import Table

    from changan.registry.schemas import RegistryOut
    from changan.registry.service import lookup
    from changan.web.context import AppContext

    ctx = AppContext.build(_settings(), utc_now)
    try:
        with ctx.uow() as session:
            row = lookup(session, _cli_actor(), vehicle_key, purpose=purpose, case_no=case_no, now=utc_now())
            out = RegistryOut.of(row) if row is not None else None
    except ChanganError as exc:
        _fail(exc)
    if out is None:
        console.print(f"[yellow]{vehicle_key} 不在登记库中[/yellow]")
        raise typer.Exit(1)
    table = Table(title=f"车辆登记 {out.vehicle_key}", show_header=False)
    for label, value in (
        ("号牌号码", out.plate_no),
        ("号牌种类", f"{out.plate_class} {out.plate_class_zh or ''}"),
        ("车辆类型", out.vehicle_class),
        ("使用性质", out.use),
        ("车身颜色", f"{out.body_colour} {out.body_colour_zh}" if out.body_colour else None),
        ("品牌", out.brand),
        ("型号", out.model),
        ("所有人/运营单位", out.operator),
        ("来源", out.source),
        ("更新时间", out.updated_at.isoformat(timespec="seconds")),
    ):
        table.add_row(label, value or "—")
    console.print(table)


@engine_app.command("run")
def engine_run() -> None:
    """单独运行检测引擎（生产部署：与 Web 进程分开）。"""
    from changan.engine.detectors.base import ConfigError
    from changan.runtime import engine_for
    from changan.web.context import AppContext

    s = _settings()
    ctx = AppContext.build(s, utc_now)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        engine = engine_for(ctx)
    except ConfigError as exc:
        console.print(f"[red]配置错误：{exc}[/red]")
        raise typer.Exit(2) from None
    engine.run(stop, idle_wait_s=s.engine_idle_wait_s)


@app.command()
def serve(
    engine: Annotated[bool, typer.Option(help="在本进程内运行检测引擎")] = True,
    migrate: Annotated[bool, typer.Option(help="启动前迁移数据库")] = True,
) -> None:
    """启动 Web 服务（API、操作界面）。"""
    import uvicorn

    from changan.kit.migrate import upgrade
    from changan.runtime import Workers
    from changan.web.app import create_app
    from changan.web.context import AppContext

    s = _settings()
    if migrate:
        upgrade(s.database_url)
    ctx = AppContext.build(s, utc_now)
    workers = Workers(ctx, engine=engine)
    workers.start()
    try:
        uvicorn.run(create_app(ctx), host=s.host, port=s.port, log_level="warning")
    finally:
        workers.stop()


@app.command()
def demo(
    port: Annotated[int | None, typer.Option(help="HTTP 端口")] = None,
    speedup: Annotated[float | None, typer.Option(help="模拟时钟倍速")] = None,
    vehicles_per_hour: Annotated[float, typer.Option(help="每小时进入路网的车辆数")] = 3000.0,
) -> None:
    """在内嵌数据库上运行整个平台，并用模拟车流驱动它。"""
    import os

    from changan.sim.demo import run_demo

    s = _settings()
    if "CHANGAN_LOG_LEVEL" not in os.environ:  # a newcomer wants the status lines, not every batch
        configure_logging("WARNING", json=s.log_json)
    run_demo(
        s,
        port=port or s.port,
        speedup=speedup or s.demo_speedup,
        vehicles_per_hour=vehicles_per_hour,
        console=console,
    )


def _parse_start(text: str) -> datetime:
    from changan.kit.clock import utc_now

    if text == "now":
        return utc_now().replace(microsecond=0)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        console.print("[red]错误（--start）：应为 now 或带时区的 ISO 8601 时间[/red]")
        raise typer.Exit(2)
    return value


def _scenario(name: str) -> object:
    from changan.sim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(name)
    except ScenarioError as exc:
        console.print(f"[red]错误（--scenario）：{exc}[/red]")
        raise typer.Exit(2) from None


@app.command()
def simulate(
    scenario: Annotated[
        str, typer.Option(help="内置场景名（city-hour、city-day、province-peak、national-peak）或 TOML 文件")
    ],
    out: Annotated[Path | None, typer.Option(help="输出目录")] = None,
    seed: Annotated[int, typer.Option(help="随机种子：同一种子输出逐字节相同")] = 7,
    parquet: Annotated[bool, typer.Option(help="同时写出 Parquet（过车、真值、车辆登记）")] = True,
    stream: Annotated[str | None, typer.Option(help="把过车实时推送到运行中的 changan（基址 URL）")] = None,
    key: Annotated[
        str | None, typer.Option(help="推送用的平台接入密钥（changan devices platform-key）")
    ] = None,
    speedup: Annotated[float, typer.Option(help="推送时的倍速；0 为不等待")] = 1.0,
    start: Annotated[str | None, typer.Option(help="覆盖场景开始时间：now 或带时区的 ISO 8601")] = None,
) -> None:
    """模拟一个场景的车流，写出过车记录、真值、车辆登记、布控与设备文件，并打印统计。"""
    from rich.progress import Progress
    from rich.table import Table

    from changan.network import Network
    from changan.sim.output import write
    from changan.sim.scenario import Scenario
    from changan.sim.world import expected_class_mix
    from changan.sim.world import simulate as run_simulation

    s = _settings()
    sc = _scenario(scenario)
    assert isinstance(sc, Scenario)
    if out is None and stream is None:
        console.print("[red]错误（--out）：请给出输出目录 --out，或用 --stream 推送到服务器[/red]")
        raise typer.Exit(2)
    if stream is not None and not key:
        console.print("[red]错误（--key）：推送需要平台接入密钥[/red]")
        raise typer.Exit(2)
    if start is not None:
        sc = sc.model_copy(update={"start": _parse_start(start)})
    network = Network.load(s.network_file) if s.network_file else Network.load_default()
    with Progress(console=console) as progress:
        task = progress.add_task(f"模拟 {sc.name}", total=1.0)
        outcome = run_simulation(sc, network, seed, progress=lambda f: progress.update(task, completed=f))
        if out is not None:
            write(outcome, out, parquet=parquet)
        if stream is not None and key:
            from changan.sim.stream import stream as send

            sending = progress.add_task(f"推送到 {stream}", total=1.0)
            sent = send(
                outcome,
                stream,
                key,
                speedup=speedup,
                progress=lambda f: progress.update(sending, completed=f),
            )
            console.print(
                f"已推送 {sent.sent:,} 条：接收 {sent.accepted:,}，重复 {sent.duplicates:,}，"
                f"拒收 {sent.rejected:,}" + (f"（首个原因：{sent.first_error}）" if sent.first_error else "")
            )
    st = outcome.stats
    cam = sc.camera
    table = Table(
        title=f"场景 {sc.name}（种子 {seed}）：{st['vehicles']:,} 辆车，{st['true_passages']:,} 次真实过车，"
        f"{st['reported_passages']:,} 条上报"
    )
    for col in ("指标", "配置", "实际"):
        table.add_column(col)
    rows = [
        ("车牌识别正确", cam.read_right, st["read_right_share"]),
        ("误识（形近字符）", cam.misread, st["misread_share"]),
        ("漏识", cam.missed, st["missed_share"]),
        ("同一卡口重复上报", cam.duplicate, st["duplicate_share"]),
        ("5 秒内送达", cam.delivered_5s, st["delivered_5s_share"]),
        ("迟到 5 分钟以上", round(1 - cam.delivered_5s - cam.delivered_5min, 4), st["late_over_5min_share"]),
    ]
    if st["coach_ban_compliance"] is not None:
        rows.append(
            ("客运车辆遵守 02–05 时禁行", sc.behaviour.coach_ban_compliance, st["coach_ban_compliance"])
        )
    expected = expected_class_mix(sc)
    rows += [(f"车型占比：{k}", expected[k], v) for k, v in st["class_mix"].items()]
    for label, want, got in rows:
        table.add_row(label, f"{want:.2%}", f"{got:.2%}")
    console.print(table)
    console.print(f"每卡口每小时过车 {st['passages_per_site_per_hour']}；真值案例 {st['truth_cases']}")
    if out is not None:
        console.print(f"已写入 {out}")


@app.command()
def evaluate(
    scenario: Annotated[str, typer.Option(help="内置场景名或 TOML 文件")] = "city-hour",
    seed: Annotated[int, typer.Option(help="随机种子")] = 7,
    out: Annotated[Path, typer.Option(help="JSON 结果文件")] = Path("evaluate.json"),
) -> None:
    """在模拟场景上运行引擎，按检测器报告精确率、召回率、F1、每百万误报与检测时延。"""
    import json

    from rich.progress import Progress
    from rich.table import Table

    from changan.network import Network
    from changan.sim.evaluate import run
    from changan.sim.scenario import Scenario

    s = _settings()
    sc = _scenario(scenario)
    assert isinstance(sc, Scenario)
    network = Network.load(s.network_file) if s.network_file else Network.load_default()
    with Progress(console=console) as progress:
        tasks: dict[str, object] = {}

        def report(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=1.0)
            progress.update(tasks[stage], completed=fraction)  # type: ignore[arg-type]

        result = run(sc, network, seed, progress=report)
    table = Table(title=f"评估 {sc.name}（种子 {seed}）：送达 {result['passages_delivered']:,} 条过车")
    for col in (
        "检测器",
        "案例",
        "可检出",
        "检出",
        "精确率",
        "召回率",
        "F1",
        "每百万误报",
        "暂定时延中位(秒)",
        "暂定时延P95(秒)",
        "确定时延中位(秒)",
    ):
        table.add_column(col, no_wrap=col == "检测器", overflow="fold")

    def fmt(x: object) -> str:
        return "—" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)

    for d in result["detectors"]:
        name = d["detector"] if d["has_detector"] else f"{d['detector']}（尚无检测器）"
        table.add_row(
            name,
            str(d["cases"]),
            str(d["detectable"]),
            str(d["found"]),
            fmt(d["precision"]),
            fmt(d["recall"]),
            fmt(d["f1"]),
            fmt(d["false_positives_per_million"]),
            fmt(d["delay_median_s"]),
            fmt(d["delay_p95_s"]),
            fmt(d["settled_delay_median_s"]),
        )
    Console(width=max(console.width, 150)).print(table)
    la = result["lookalike"]
    console.print(
        f"布控形近字符疑似比中：误识案例 {la['cases']}，检出 {la['found']}（召回 {fmt(la['recall'])}），"
        f"疑似比中 {la['possible_hits']} 条，其中误报 {la['false_possible_hits']}"
        f"（每十万过车 {fmt(la['false_per_100k_passages'])}）"
    )
    if result["not_scored"]:
        console.print(f"不计分的提示类检出：{result['not_scored']}")
    d = result["dispatch"]
    console.print(
        f"拦截调度：指令 {d['tasks']} 条，车辆到站 {d['reached']}，未到站 {d['not_reached']}；"
        f"提前量中位 {fmt(d['lead_median_s'])} 秒，≥5 分钟占 {fmt(d['lead_at_least_5min_share'])}，"
        f"按拦截模型预计拦下 {fmt(d['expected_stop_rate'])}"
    )
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"结果已写入 {out}")


@bench_app.command("engine")
def bench_engine(
    scenario: Annotated[str, typer.Option(help="内置场景名或 TOML 文件")] = "national-peak",
    seed: Annotated[int, typer.Option(help="随机种子")] = 7,
    minutes: Annotated[float | None, typer.Option(help="只模拟场景开头的这些分钟（默认整个场景）")] = None,
    backend: Annotated[list[str] | None, typer.Option(help="端到端：sqlite 和/或 postgres")] = None,
    pg_url: Annotated[str | None, typer.Option(help="PostgreSQL 服务器 URL（建临时库）")] = None,
    batch_size: Annotated[int, typer.Option(min=100, help="引擎每个事务的过车数")] = 5000,
    profile_passages: Annotated[int, typer.Option(min=0, help="剖析前多少条过车")] = 100_000,
    out: Annotated[Path, typer.Option(help="JSON 结果文件")] = Path("bench-engine.json"),
) -> None:
    """检测引擎：内存中每秒过车、每条 CPU 秒、时延 p50/p99、每车状态字节；端到端（日志→检测→提交）。"""
    import json

    from rich.progress import Progress

    from changan.bench.engine import run
    from changan.network import Network
    from changan.sim.scenario import ScenarioError, load_scenario

    try:
        sc = load_scenario(scenario)
    except ScenarioError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if minutes is not None:
        sc = sc.model_copy(update={"duration_h": minutes / 60})
    backends = backend or ["sqlite", "postgres"]
    for b in backends:
        if b not in ("sqlite", "postgres"):
            console.print(f"[red]错误（backend）：未知后端 {b}，可用 sqlite、postgres[/red]")
            raise typer.Exit(2)
    network = Network.load_default()
    with Progress(console=console) as progress:
        tasks: dict[str, object] = {}

        def report(stage: str, fraction: float) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=1.0)
            progress.update(tasks[stage], completed=fraction)  # type: ignore[arg-type]

        result = run(
            sc,
            network,
            seed,
            backends=backends,
            pg_url=pg_url,
            batch_size=batch_size,
            profile_passages=profile_passages,
            progress=report,
        )
    m = result["memory"]
    console.print(
        f"场景 {sc.name}：{result['passages']:,} 条过车，检测器 {', '.join(m['detectors'])}\n"
        f"内存中（单核）：{m['passages_per_s']:,.0f} 条/秒，每条 CPU {m['cpu_s_per_passage'] * 1e6:.1f} 微秒，"
        f"时延 p50 {m['latency_p50_us']} 微秒 / p99 {m['latency_p99_us']} 微秒；"
        f"跟踪车辆 {m['tracked_vehicles']:,}，每车状态 {m['bytes_per_tracked_vehicle']:,.0f} 字节"
    )
    for name, e in result["end_to_end"].items():
        console.print(
            f"端到端 {name}（每批 {e['batch_size']}）：{e['passages_per_s']:,.0f} 条/秒，"
            f"引擎每条 CPU {e['engine_cpu_s_per_passage'] * 1e6:.1f} 微秒"
        )
    console.print("耗时最多的函数（剖析）：")
    for row in result["profile_top"][:8]:
        console.print(f"  {row['own_share'] * 100:5.1f}%  {row['function']}")
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"结果已写入 {out}")


@bench_app.command("ingest")
def bench_ingest(
    n: Annotated[int, typer.Option(help="每种后端提交的过车记录数")] = 100_000,
    batch: Annotated[int, typer.Option(help="每批条数")] = 5_000,
    backend: Annotated[list[str] | None, typer.Option(help="sqlite 和/或 postgres")] = None,
    pg_url: Annotated[str | None, typer.Option(help="PostgreSQL 服务器 URL（建临时库）")] = None,
    http_workers: Annotated[int, typer.Option(min=1, max=16, help="HTTP 对比时的服务进程数")] = 2,
    repeat: Annotated[int, typer.Option(min=1, max=20, help="每种配置重复次数（取中位数）")] = 3,
    out: Annotated[Path, typer.Option(help="JSON 结果文件")] = Path("bench-ingest.json"),
) -> None:
    """批量接入吞吐（持久化后计数）：SQLite 与 PostgreSQL 并列比较。"""
    import json

    from rich.progress import Progress
    from rich.table import Table

    from changan.bench.ingest import report, run
    from changan.network import Network

    s = _settings()
    network = Network.load(s.network_file) if s.network_file else Network.load_default()
    with Progress(console=console) as progress:
        figures = run(
            n=n,
            batch=batch,
            backends=backend or ["sqlite", "postgres"],
            pg_url=pg_url,
            network=network,
            progress=progress,
            http_workers=http_workers,
            repeat=repeat,
        )
    table = Table(title=f"批量接入：{n} 条，每批 {batch} 条（已提交、已落盘）")
    for col in ("后端", "路径", "条/秒（中位数）", "各次"):
        table.add_column(col)
    for f in figures:
        table.add_row(
            f.backend, f.path, f"{f.passages_per_s:,.0f}", " / ".join(f"{r:,.0f}" for r in f.runs_per_s)
        )
    console.print(table)
    out.write_text(json.dumps(report(figures, n=n, batch=batch), ensure_ascii=False, indent=2))
    console.print(f"结果已写入 {out}")


def main() -> None:
    app()

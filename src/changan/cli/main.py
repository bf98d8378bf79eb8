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
engine_app = typer.Typer(help="检测引擎", no_args_is_help=True)
bench_app = typer.Typer(help="性能测试", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (users_app, "users"),
    (devices_app, "devices"),
    (watchlist_app, "watchlist"),
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
) -> None:
    """添加布控。"""
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
    console.print(f"已布控 {entry.plate_no}（编号 {entry.id}）")


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


@engine_app.command("run")
def engine_run() -> None:
    """单独运行检测引擎（生产部署：与 Web 进程分开）。"""
    from changan.engine.runtime import Engine
    from changan.web.context import AppContext

    s = _settings()
    ctx = AppContext.build(s, utc_now)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Engine(ctx.factory, ctx.network, clock=ctx.clock, batch_size=s.engine_batch_size).run(
        stop, idle_wait_s=s.engine_idle_wait_s
    )


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
        "时延中位(秒)",
        "时延P95(秒)",
    ):
        table.add_column(col)

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
        )
    console.print(table)
    d = result["dispatch"]
    console.print(
        f"拦截调度：指令 {d['tasks']} 条，车辆到站 {d['reached']}，未到站 {d['not_reached']}；"
        f"提前量中位 {fmt(d['lead_median_s'])} 秒，≥5 分钟占 {fmt(d['lead_at_least_5min_share'])}，"
        f"按拦截模型预计拦下 {fmt(d['expected_stop_rate'])}"
    )
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

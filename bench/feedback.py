"""Feedback forms at 100,000 answers on PostgreSQL: reading the free text, (later) the
dashboard and the public form under load.

    python -m bench.feedback [--answers 100000] [--customers 20000] [--batch-size 2000]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_bench` database), migrates it and
fills it with demo customers when it has fewer than `--customers`. Then, each run from
scratch (the previous run's bench responses are deleted first):

1. Answers: one feedback form per service step, each published with an NPS or CSAT question,
   a single choice and a long free text; `--answers / 3` responses over the last 26 weeks,
   nine in ten from a customer (a personal link), the rest anonymous; three answers each, so
   a third are free text. A quarter of those are English, the rest Chinese, composed from a
   pool of clauses about delivery, service, waiting, fees, the app, products, branches and
   points (two or three clauses and a number each, so that texts vary as real ones do).
   Set-based INSERT ... SELECT, no per-row work. `generate_answers_s`.
2. Scoring: the example topic rules and dictionary (seed_feedback), the reading models
   loaded once (`warmup_s`, what a worker pays at its first batch), then `answers_score` as
   the every-minute task runs it, over every free-text answer: `text_answers`, `score_s`,
   `score_cpu_s` (this process's CPU time), `score_answers_per_s` (goal: at least 2,000).
   `negative_share` and `topic_share` say what it found.
3. The dashboard: the supervisors' page (last 26 weeks, all forms) through Django's test
   client, as the first team's supervisor (scoped to the team's customers: the realistic
   case; `dashboard_user` says who) and as a superuser, who sees every customer:
   `--dashboard-requests` timed requests after 3 untimed ones; `dashboard_all_p95_ms` and
   `dashboard_p95_ms` (goal under 500 ms at 100,000 answers).
4. The public form under load: `--public-links` personal links (one INSERT ... SELECT),
   gunicorn (2 workers, DEBUG off, bench/feedback_settings.py) serving the project, and a
   second process (bench/feedback_client.py, `--connections` threads, one per worker) that
   GETs each link and POSTs the answers as a browser does (CSRF cookie and token), each link
   once. The per-IP limit of posts is raised for the server, since every simulated customer
   comes from 127.0.0.1; the per-link limit and everything else are as in production.
   `public_pairs_per_s`, `public_form_p50_ms`, `public_errors`, and the headline
   `public_form_p95_ms` (one GET plus one POST; goal under 100 ms).

Prints key=value lines, the headline last (see `main`).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.demo_database import demo_database_prepare, django_setup
from bench.server import free_port, server_start

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_bench"
SLUG = "bench-feedback"
OCCASION = "bench-feedback"
PUBLIC_OCCASION = "bench-feedback-public"
ROOT = Path(__file__).resolve().parent.parent
WEEKS = 26

# Clauses about a bank's loyalty programme; "{n}" becomes a number from the answer's id.
CHINESE_CLAUSES = [
    "快递太慢了，等了{n}天才收到礼品",
    "礼品配送很快，包装完好",
    "物流信息一直不更新",
    "发货速度还可以",
    "客服态度很差，问了{n}遍都没说清楚",
    "客服很耐心，解释得很清楚",
    "柜台工作人员非常专业",
    "服务态度一般，有点敷衍",
    "客户经理很热情，每次都及时回复",
    "电话打了{n}次才接通",
    "网点排队等了{n}分钟",
    "排队时间太长，只开了一个窗口",
    "办理速度很快，没怎么等",
    "处理太慢了，希望改进",
    "手续费太高了",
    "年费收费不透明，没有提前告知",
    "取消年费的流程很麻烦",
    "费用比其他银行低，很划算",
    "手机银行APP经常闪退",
    "APP登录不上，验证码收不到",
    "手机银行很好用，转账方便快捷",
    "新版APP界面清晰，操作简单",
    "更新以后APP卡顿，用了{n}秒才打开",
    "理财产品收益不错",
    "理财产品的风险说明不够清楚",
    "信用卡额度提升很及时",
    "存款利率太低了",
    "积分兑换的礼品很实用",
    "积分兑换规则太复杂，看不懂",
    "积分到账很及时，点赞",
    "{n}积分才换一个杯子，不划算",
    "网点环境很舒适",
    "网点停车不方便",
    "柜台只有{n}个人在办理业务",
    "整体来说很满意",
    "非常满意，谢谢你们",
    "不满意，我要投诉",
    "体验很好，会推荐给朋友",
    "不会再推荐给别人了",
    "没有问题，一切顺利",
    "希望能增加更多礼品选择",
    "建议周末多开几个窗口",
    "短信通知太多了，有点烦",
    "活动规则写得很清楚",
    "问题到现在还没解决",
    "工作人员主动帮我填表，很贴心",
]
ENGLISH_TEXTS = [
    "The staff at the branch were friendly and very professional.",
    "Waited {n} minutes in the queue, far too slow.",
    "The app keeps crashing when I try to log in.",
    "Great app, transfers are quick and easy.",
    "Hidden fees on my card again, I was overcharged {n} yuan.",
    "Delivery of my reward took {n} days, not happy.",
    "Points redemption was smooth, thank you!",
    "The customer service agent was rude and unhelpful.",
    "Interest rate on the savings product is too low.",
    "Really satisfied with the service at the counter.",
    "Not satisfied, the problem is still not resolved after {n} calls.",
    "Nice gifts in the rewards catalogue this month.",
    "The annual fee is too high for what I get.",
    "Quick and courteous service, I would recommend it.",
    "Login with face ID never works, very frustrating.",
    "Shipping was fast and the gift arrived in perfect condition.",
]
CHOICES = "Phone\nApp\nBranch"
CHOICES_ZH = "电话\n手机银行\n网点"


# -- 1. the answers -----------------------------------------------------------------------------


def _forms() -> list[tuple]:
    """One published form per service step: (form id, version id, step, NPS or not, the
    questions' ids in the version)."""
    from workflows.feedback.versions import form_publish
    from workflows.models import FeedbackForm, FormQuestion
    from workflows.models.feedback import QuestionKind, ServiceStep

    forms = []
    for index, (step, _label) in enumerate(ServiceStep.choices):
        is_nps = index % 2 == 0
        form, created = FeedbackForm.objects.get_or_create(
            slug=f"{SLUG}-{step}".replace("_", "-"),
            defaults={
                "name": f"Bench {step}",
                "service_step": step,
                "title_en": "How did we do?",
                "title_zh_hans": "请评价我们的服务",
            },
        )
        if created:
            questions = [
                (QuestionKind.NPS if is_nps else QuestionKind.CSAT, "", ""),
                (QuestionKind.SINGLE, CHOICES, CHOICES_ZH),
                (QuestionKind.LONG_TEXT, "", ""),
            ]
            for order, (kind, choices, choices_zh) in enumerate(questions, start=1):
                FormQuestion.objects.create(
                    form=form, order=order, kind=kind, required=order == 1,
                    text_en=f"Question {order}", text_zh_hans=f"问题 {order}",
                    choices_en=choices, choices_zh_hans=choices_zh,
                )  # fmt: skip
            form_publish(form=form)
            form.refresh_from_db()
        version = form.current_version
        ids = [question["id"] for question in version.questions]
        kinds = [question["kind"] for question in version.questions]
        forms.append((form.pk, version.pk, step, kinds[0] == QuestionKind.NPS, ids, kinds))
    return forms


def _clear() -> None:
    """The previous run's responses, answers and their topics (set-based)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM workflows_answertopic WHERE answer_id IN (SELECT a.id FROM"
            " workflows_feedbackanswer a JOIN workflows_feedbackresponse r ON r.id ="
            " a.response_id WHERE r.occasion = %s)",
            [OCCASION],
        )
        cursor.execute(
            "DELETE FROM workflows_feedbackanswer WHERE response_id IN (SELECT id FROM"
            " workflows_feedbackresponse WHERE occasion = %s)",
            [OCCASION],
        )
        cursor.execute("DELETE FROM workflows_feedbackresponse WHERE occasion = %s", [OCCASION])
        cursor.execute(
            "DELETE FROM workflows_answertopic WHERE answer_id IN (SELECT a.id FROM"
            " workflows_feedbackanswer a JOIN workflows_feedbackresponse r ON r.id ="
            " a.response_id WHERE r.occasion = %s)",
            [PUBLIC_OCCASION],
        )
        cursor.execute(
            "DELETE FROM workflows_feedbackanswer WHERE response_id IN (SELECT id FROM"
            " workflows_feedbackresponse WHERE occasion = %s)",
            [PUBLIC_OCCASION],
        )
        cursor.execute(
            "DELETE FROM workflows_feedbackresponse WHERE occasion = %s", [PUBLIC_OCCASION]
        )
        cursor.execute(
            "DELETE FROM workflows_feedbackinvitation WHERE occasion = %s", [PUBLIC_OCCASION]
        )


def _texts_sql() -> tuple[str, str]:
    """SQL expressions of an answer's text from the pools, varied by the response id `r.id`:
    two or three Chinese clauses, or an English sentence, with a number in some."""
    number = "(2 + r.id %% 40)::text"
    clause = "replace((%(zh)s::text[])[1 + ({}) %% %(zh_count)s], '{{n}}', {})"
    first = clause.format("r.id", number)
    second = clause.format("r.id / %(zh_count)s + r.id * 7", number)
    third = clause.format("r.id * 13 + 5", number)
    chinese = (
        f"{first} || '，' || {second}"
        f" || CASE WHEN r.id %% 3 = 0 THEN '，' || {third} ELSE '' END || '。'"
    )
    english = f"replace((%(en)s::text[])[1 + r.id %% %(en_count)s], '{{n}}', {number})"
    return chinese, english


def answers_generate(*, answers: int, customers: int) -> tuple[int, float]:
    """`answers` answers, a third of them free text, in two INSERT ... SELECT; returns how
    many free texts and the seconds taken."""
    from django.db import connection

    from crm.models import Customer

    started = time.perf_counter()
    _clear()
    forms = _forms()
    customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:customers])
    responses = answers // 3
    # Our own ids and constants, written into the VALUES lists.
    form_values = ", ".join(
        f"({index}, {form_id}, {version_id}, '{step}', {is_nps})"
        for index, (form_id, version_id, step, is_nps, _ids, _kinds) in enumerate(forms)
    )
    question_values = ", ".join(
        f"({form_id}, {number}, '{question_id}', '{kind}')"
        for form_id, _version, _step, _nps, ids, kinds in forms
        for number, (question_id, kind) in enumerate(zip(ids, kinds, strict=True), start=1)
    )
    chinese, english = _texts_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO workflows_feedbackresponse (form_id, version_id, service_step,
                customer_id, occasion, language, submitted_at, nps, csat, contact_name,
                contact_phone, contact_email)
            SELECT f.form_id, f.version_id, f.step,
                CASE WHEN g %% 10 = 0 THEN NULL
                     ELSE (%(customers)s::bigint[])[1 + (g * 7919) %% %(customer_count)s] END,
                %(occasion)s, CASE WHEN g %% 4 = 0 THEN 'en' ELSE 'zh-hans' END,
                now() - (g %% (7 * %(weeks)s)) * interval '1 day'
                      - ((g * 37) %% 86400) * interval '1 second',
                CASE WHEN f.is_nps THEN (ARRAY[0,2,4,5,6,7,7,8,8,9,9,9,10,10,10,10])
                    [1 + (g * 31) %% 16] END,
                CASE WHEN NOT f.is_nps THEN (ARRAY[1,2,3,3,4,4,4,5,5,5])[1 + (g * 13) %% 10] END,
                '', '', ''
            FROM generate_series(1, %(responses)s) AS g
            JOIN (VALUES {form_values}) AS f(k, form_id, version_id, step, is_nps)
              ON f.k = g %% %(form_count)s
            """,
            {
                "customers": customer_ids,
                "customer_count": len(customer_ids),
                "occasion": OCCASION,
                "weeks": WEEKS,
                "responses": responses,
                "form_count": len(forms),
            },
        )
        cursor.execute(
            f"""
            INSERT INTO workflows_feedbackanswer (response_id, question_id, kind, score,
                choices, text, text_language)
            SELECT r.id, q.question_id, q.kind,
                CASE WHEN q.n = 1 THEN coalesce(r.nps, r.csat) END,
                CASE WHEN q.n = 2 THEN jsonb_build_array((1 + r.id %% 3)::text)
                     ELSE '[]'::jsonb END,
                CASE WHEN q.n <> 3 THEN ''
                     WHEN r.language = 'en' THEN {english}
                     ELSE {chinese} END,
                ''
            FROM workflows_feedbackresponse r
            JOIN (VALUES {question_values}) AS q(form_id, n, question_id, kind)
              ON q.form_id = r.form_id
            WHERE r.occasion = %(occasion)s
            """,
            {
                "occasion": OCCASION,
                "zh": CHINESE_CLAUSES,
                "zh_count": len(CHINESE_CLAUSES),
                "en": ENGLISH_TEXTS,
                "en_count": len(ENGLISH_TEXTS),
            },
        )
        cursor.execute("ANALYZE workflows_feedbackresponse")
        cursor.execute("ANALYZE workflows_feedbackanswer")
    return responses, time.perf_counter() - started


# -- 2. scoring ---------------------------------------------------------------------------------


def scoring_measure(*, batch_size: int) -> dict[str, str]:
    """Seeds the rules, warms the reading models, then reads every unread answer."""
    from django.db.models import Count

    from workflows.feedback.reading.score import answer_read, answers_score
    from workflows.feedback.reading.seeds import feedback_rules_seed
    from workflows.feedback.reading.segmentation import dictionary_refresh
    from workflows.feedback.reading.topics import topic_rules
    from workflows.models import AnswerTopic, FeedbackAnswer

    feedback_rules_seed()
    started = time.perf_counter()
    dictionary_refresh()
    answer_read("客服态度很差", topic_rules())
    answer_read("The staff were rude", topic_rules())
    warmup_s = time.perf_counter() - started
    bench_answers = FeedbackAnswer.objects.filter(response__occasion=OCCASION).exclude(text="")
    bench_answers.update(scored_at=None)  # a rerun on kept data reads everything again

    started, cpu_started = time.perf_counter(), time.process_time()
    scored = answers_score(batch_size=batch_size)
    score_s = time.perf_counter() - started
    score_cpu_s = time.process_time() - cpu_started

    texts = bench_answers.count()
    negative = bench_answers.filter(sentiment__lt=0).count()
    topics = (
        AnswerTopic.objects.filter(answer__response__occasion=OCCASION)
        .values("topic__name_en")
        .annotate(count=Count("*"))
        .order_by("-count")
    )
    topic_share = {row["topic__name_en"]: round(row["count"] / texts, 3) for row in topics}
    return {
        "text_answers": str(texts),
        "scored": str(scored),
        "warmup_s": f"{warmup_s:.2f}",
        "score_s": f"{score_s:.2f}",
        # This process only (the reading in Python); the rest of score_s is the database's
        # work and, on a busy machine, waiting for a CPU.
        "score_cpu_s": f"{score_cpu_s:.2f}",
        "negative_share": f"{negative / texts:.3f}",
        "topic_share": str(topic_share),
        "score_answers_per_s": f"{scored / score_s:.0f}",
    }


# -- 3. the dashboard ---------------------------------------------------------------------------


def _p95_ms(timings: list[float]) -> float:
    import statistics

    return statistics.quantiles(timings, n=20)[18] * 1000


def _dashboard_timings(user, requests: int) -> list[float]:
    from django.test import Client
    from django.urls import reverse

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url = reverse("admin:workflows_feedbackresponse_dashboard")
    timings = []
    for index in range(requests + 3):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"the dashboard answered {response.status_code} to {user}")
        if index >= 3:
            timings.append(elapsed)
    return timings


def dashboard_measure(*, requests: int) -> dict[str, str]:
    from django.contrib.auth import get_user_model

    from crm.models import TeamMembership

    membership = (
        TeamMembership.objects.filter(role=TeamMembership.Role.SUPERVISOR)
        .select_related("user")
        .order_by("team_id")
        .first()
    )
    superuser, _created = get_user_model().objects.get_or_create(
        username="bench_feedback_admin", defaults={"is_staff": True, "is_superuser": True}
    )
    result = {"dashboard_all_p95_ms": f"{_p95_ms(_dashboard_timings(superuser, requests)):.0f}"}
    if membership is not None:
        result["dashboard_user"] = f"supervisor of team {membership.team_id}"
        supervisor_timings = _dashboard_timings(membership.user, requests)
        result["dashboard_p95_ms"] = f"{_p95_ms(supervisor_timings):.0f}"
    else:
        result["dashboard_user"] = "superuser (no team supervisor in the data)"
        result["dashboard_p95_ms"] = result["dashboard_all_p95_ms"]
    return result


# -- 4. the public form under load --------------------------------------------------------------


def _public_links(*, links: int, customers: int) -> tuple[list[str], dict]:
    """`links` personal links to the general form (one INSERT ... SELECT) and the answers a
    customer posts: NPS 9, the second choice, a Chinese comment."""
    from django.db import connection
    from django.utils import timezone

    from workflows.feedback.links import invitation_path
    from workflows.models import FeedbackForm, FeedbackInvitation

    form = FeedbackForm.objects.select_related("current_version").get(slug=f"{SLUG}-general")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO workflows_feedbackinvitation (form_id, customer_id, occasion,
                created_at, expires_at)
            SELECT %s, c.id, %s, now(), now() + interval '30 days'
            FROM (SELECT id FROM crm_customer ORDER BY id LIMIT %s) AS c
            ON CONFLICT DO NOTHING
            """,
            [form.pk, PUBLIC_OCCASION, min(links, customers)],
        )
    invitations = FeedbackInvitation.objects.filter(
        form=form, occasion=PUBLIC_OCCASION, answered_at__isnull=True, expires_at__gt=timezone.now()
    ).values_list("pk", flat=True)
    paths = [invitation_path(form_slug=form.slug, invitation_id=pk) for pk in invitations]
    first, choice, text = (question["id"] for question in form.current_version.questions)
    body = {first: "9", choice: "2", text: "客服态度很好，积分到账也快，就是快递有点慢。"}
    return paths, body


def public_form_measure(*, links: int, customers: int, connections: int) -> dict[str, str]:
    from django.conf import settings

    paths, body = _public_links(links=links, customers=customers)
    port = free_port()
    server = server_start(
        port,
        settings_module="bench.feedback_settings",
        extra_env={
            "WORKFLOWS_FEEDBACK_POSTS_PER_IP": str(10 * len(paths) + 100),
            # The links were signed here: the server must check them with the same key.
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        },
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            links_file, body_file = Path(folder, "links"), Path(folder, "body.json")
            links_file.write_text("\n".join(paths))
            body_file.write_text(json.dumps(body))
            completed = subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "bench.feedback_client",
                    "--base",
                    f"http://127.0.0.1:{port}",
                    "--links",
                    str(links_file),
                    "--body",
                    str(body_file),
                    "--connections",
                    str(connections),
                ],  # fmt: skip
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = dict(line.split("=", 1) for line in completed.stdout.splitlines() if "=" in line)
    return {
        "public_links": str(len(paths)),
        "public_pairs_per_s": result["pairs_per_s"],
        "public_form_p50_ms": result["p50_ms"],
        "public_statuses": result["statuses"],
        "public_errors": result["errors"],
        "public_form_p95_ms": result["p95_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dashboard-requests", type=int, default=40)
    parser.add_argument("--public-links", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=2)
    args = parser.parse_args()
    django_setup(DEFAULT_DATABASE_URL)
    demo_database_prepare(bench="feedback", customers=args.customers, workers=args.workers)

    texts, generate_s = answers_generate(answers=args.answers, customers=args.customers)
    print(f"answers={texts * 3}")
    print(f"generate_answers_s={generate_s:.1f}")
    for key, value in scoring_measure(batch_size=args.batch_size).items():
        print(f"{key}={value}")
    for key, value in dashboard_measure(requests=args.dashboard_requests).items():
        print(f"{key}={value}")
    public = public_form_measure(
        links=args.public_links, customers=args.customers, connections=args.connections
    )
    for key, value in public.items():  # the headline, public_form_p95_ms, last
        print(f"{key}={value}")


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    main()

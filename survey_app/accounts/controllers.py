"""Sign-in, sign-out, password change, the staff home page and the privacy notice."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import Cookie, State
from litestar.middleware.rate_limit import get_remote_address
from litestar.params import FromPath
from litestar.response import Redirect, Template

from survey_app.accounts import PUBLIC, SIGNED_IN, SignedInUser, access, services
from survey_app.accounts.middleware import end_session, session_cookie_header, start_session
from survey_app.accounts.passwords import password_matches, password_problem
from survey_app.core.tables import Unit, User
from survey_app.core.wording import LANGUAGE_COOKIE

# Pages each role reaches from the menu: (href, Vietnamese, English). Areas add their entries here.
NAV: dict[str, list[tuple[str, str, str]]] = {
    "admin": [("/admin/units", "Cây đơn vị", "Unit tree"), ("/admin/counters", "Quầy và áp phích QR", "Counters"),
              ("/admin/domains", "Lĩnh vực", "Domains"), ("/admin/users", "Tài khoản", "Accounts"),
              ("/admin/tokens", "Mã truy cập API", "API tokens"),
              ("/admin/questionnaires", "Bảng hỏi", "Questionnaires"),
              ("/admin/audit", "Nhật ký thay đổi", "Audit log"), ("/staff/paper", "Nhập phiếu giấy", "Paper entry")],
    "analyst": [("/analyst/campaigns", "Đợt khảo sát", "Campaigns, quality review and dashboards"),
                ("/analyst/sampling", "Mẫu khảo sát cán bộ", "Officials' samples"),
                ("/analyst/dossiers/import", "Nhập hồ sơ đã giải quyết", "Import completed dossiers"),
                ("/staff/paper", "Nhập phiếu giấy", "Paper entry")],
    "unit_manager": [("/manager", "Kết quả đơn vị", "My unit's results"),
                     ("/manager/counters", "Quầy và áp phích QR", "My unit's counters and posters"),
                     ("/manager/comments", "Ý kiến góp ý", "Comments"), ("/staff/paper", "Nhập phiếu giấy", "Paper entry")],
}
SIGN_IN_PAGE = {"access": "public"}  # public, but with CSRF protection (unlike PUBLIC pages, which skip it)


def nav_links(user: SignedInUser | None) -> list[dict]:
    if user is None:
        return []
    return [{"href": href, "label": vi, "label_en": en} for href, vi, en in NAV[user.role]]


def safe_next(path: str | None) -> str:
    """Only a path on this site: never `//evil.example` or a full URL (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/staff"
    return path


def login_page(next_path: str, username: str = "", refused: services.SignInRefused | None = None,
               status: int = 401) -> Template:
    return Template(template_name="login.html", status_code=status if refused else 200, context={
        "next": next_path, "username": username, "user": None,
        "error": refused and refused.message_vi, "error_en": refused and refused.message_en})


@get("/login", opt=SIGN_IN_PAGE)
async def login_form(request: Request) -> Template | Redirect:
    next_path = safe_next(request.query_params.get("next"))
    if request.user is not None:
        return Redirect(path=next_path)
    return login_page(next_path)


@post("/login", opt=SIGN_IN_PAGE, status_code=303)
async def login(request: Request, state: State) -> Template | Redirect:
    form = await request.form()
    username, next_path = form.get("username", "")[:64], safe_next(form.get("next"))
    address = get_remote_address(request)
    if seconds := await state.sign_in_failures.seconds_blocked(address):  # whatever name is typed
        page = login_page(next_path, username, services.too_many_failures(seconds), status=429)
        page.headers["Retry-After"] = str(seconds)
        return page
    try:
        row = await services.sign_in(username, form.get("password", ""))
    except services.SignInRefused as refused:
        await state.sign_in_failures.record_failure(address)
        return login_page(next_path, username, refused)
    session_id = await start_session(request, row, state.settings)
    await services.record_sign_in(row)
    return Redirect(path=next_path, status_code=303, cookies=[Cookie(**session_cookie_header(state.settings, session_id))])


@post("/logout", opt=access(*SIGNED_IN), status_code=303)
async def logout(request: Request, state: State) -> Redirect:
    await end_session(request)
    return Redirect(path="/login", status_code=303,
                    cookies=[Cookie(**session_cookie_header(state.settings, "", max_age=0))])


@get("/account/password", opt=access(*SIGNED_IN))
async def password_form(request: Request) -> Template:
    return Template(template_name="password.html", context={"user": request.user})


@post("/account/password", opt=access(*SIGNED_IN), status_code=200)
async def change_password(request: Request, state: State) -> Template | Redirect:
    form = await request.form()
    user: SignedInUser = request.user
    row = await User.select(User.password_hash).where(User.id == user.id).first()
    problem = None
    if not password_matches(row["password_hash"], form.get("current", "")):
        problem = "Mật khẩu hiện tại không đúng."
    elif form.get("new", "") != form.get("repeat", ""):
        problem = "Hai lần nhập mật khẩu mới không khớp."
    else:
        problem = password_problem(form.get("new", ""), user.username)
    if problem:
        return Template(template_name="password.html", status_code=422, context={"user": user, "error": problem})
    epoch = await services.change_password(user, form["new"])
    # This browser stays signed in with a new session; every other session of the user has ended.
    await end_session(request)
    session_id = await start_session(request, {"id": user.id, "session_epoch": epoch}, state.settings)
    page = Template(template_name="password.html", context={"user": user, "done": True})
    page.cookies.append(Cookie(**session_cookie_header(state.settings, session_id)))
    return page


@get("/staff", opt=access(*SIGNED_IN))
async def staff_home(request: Request) -> Template:
    user: SignedInUser = request.user
    unit = await Unit.select().where(Unit.id == user.unit_id).first() if user.unit_id else None
    return Template(template_name="staff_home.html", context={"user": user, "unit": unit})


@get("/language/{to:str}", opt=PUBLIC, status_code=302)
async def switch_language(request: Request, to: FromPath[str]) -> Redirect:
    """Staff pages in Vietnamese (the default) or with English notes: a cookie, so every page follows."""
    language = "en" if to == "en" else "vi"
    return Redirect(path=safe_next(request.query_params.get("next")), cookies=[Cookie(
        key=LANGUAGE_COOKIE, value=language, max_age=365 * 24 * 3600, httponly=True, samesite="lax", path="/")])


@get("/privacy", opt=PUBLIC)
async def privacy_notice() -> Template:
    return Template(template_name="privacy.html")


AUTH_HANDLERS = [login_form, login, logout, password_form, change_password, staff_home, privacy_notice, switch_language]

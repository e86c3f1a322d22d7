from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from apps.common.api.lists import PAGE_PARAMETERS, paginated_response, paginated_schema
from apps.common.throttling import AuthEndpointRateThrottle, SignInAccountRateThrottle
from apps.users import recovery, selectors, services
from apps.users.api import serializers as s
from apps.users.models import APIKey
from apps.users.requests import AuthenticatedRequest


class RegisterApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthEndpointRateThrottle]

    @extend_schema(
        request=s.RegisterSerializer, responses={201: s.RegisteredSerializer}, tags=["auth"]
    )
    def post(self, request: Request) -> Response:
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            name=data.validated_data["name"],
            timezone_name=data.validated_data["timezone"],
        )
        recovery.user_send_verification_email(user=user)
        refresh = RefreshToken.for_user(user)
        body = {
            "user": s.UserProfileSerializer(user).data,
            "access": str(refresh.access_token),
            "refresh": str(refresh),
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(tags=["auth"], responses={200: s.TokenPairSerializer})
class TokenObtainApi(TokenObtainPairView):
    serializer_class = s.EmailTokenObtainSerializer
    throttle_classes = [AuthEndpointRateThrottle, SignInAccountRateThrottle]


@extend_schema(tags=["auth"], responses={200: s.TokenPairSerializer})
class TokenRefreshApi(TokenRefreshView):
    throttle_classes = [AuthEndpointRateThrottle]


class UserApi(APIView):
    api_key_permission = {"GET": APIKey.Permission.IDENTITY, "HEAD": APIKey.Permission.IDENTITY}

    @extend_schema(responses=s.UserProfileSerializer, tags=["user"])
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(s.UserProfileSerializer(request.user).data)

    @extend_schema(request=s.UserUpdateSerializer, responses=s.UserProfileSerializer, tags=["user"])
    def put(self, request: AuthenticatedRequest) -> Response:
        data = s.UserUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.update(fields.pop("notification_preferences", {}))
        user = services.user_update(user=request.user, **fields)
        return Response(s.UserProfileSerializer(user).data)


class ApiKeyListApi(APIView):
    @extend_schema(
        responses=paginated_schema(s.ApiKeySerializer),
        parameters=PAGE_PARAMETERS,
        tags=["api-keys"],
        operation_id="user_api_keys_list",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        keys = selectors.api_key_list(user=request.user)
        return paginated_response(request, keys, s.ApiKeySerializer)

    @extend_schema(
        request=s.ApiKeyCreateSerializer,
        responses={201: s.ApiKeyCreatedSerializer},
        tags=["api-keys"],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        api_key, plain_key = services.api_key_create(user=request.user, **data.validated_data)
        body = {"api_key": s.ApiKeySerializer(api_key).data, "key": plain_key}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    @extend_schema(responses=s.ApiKeySerializer, tags=["api-keys"])
    def get(self, request: AuthenticatedRequest, key_id: str) -> Response:
        api_key = selectors.api_key_get(user=request.user, key_id=key_id)
        return Response(s.ApiKeySerializer(api_key).data)

    @extend_schema(
        responses={200: s.ApiKeySerializer}, tags=["api-keys"], summary="Revoke an API key"
    )
    def delete(self, request: AuthenticatedRequest, key_id: str) -> Response:
        api_key = selectors.api_key_get(user=request.user, key_id=key_id)
        return Response(s.ApiKeySerializer(services.api_key_revoke(api_key=api_key)).data)


class ApiKeySuspendApi(APIView):
    @extend_schema(request=None, responses=s.ApiKeySerializer, tags=["api-keys"])
    def post(self, request: AuthenticatedRequest, key_id: str) -> Response:
        api_key = selectors.api_key_get(user=request.user, key_id=key_id)
        return Response(s.ApiKeySerializer(services.api_key_suspend(api_key=api_key)).data)


class ApiKeyActivateApi(APIView):
    @extend_schema(request=None, responses=s.ApiKeySerializer, tags=["api-keys"])
    def post(self, request: AuthenticatedRequest, key_id: str) -> Response:
        api_key = selectors.api_key_get(user=request.user, key_id=key_id)
        return Response(s.ApiKeySerializer(services.api_key_activate(api_key=api_key)).data)


class ApiKeyPermissionsApi(APIView):
    @extend_schema(
        request=s.ApiKeyPermissionsSerializer, responses=s.ApiKeySerializer, tags=["api-keys"]
    )
    def put(self, request: AuthenticatedRequest, key_id: str) -> Response:
        api_key = selectors.api_key_get(user=request.user, key_id=key_id)
        data = s.ApiKeyPermissionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        api_key = services.api_key_set_permissions(api_key=api_key, **data.validated_data)
        return Response(s.ApiKeySerializer(api_key).data)
